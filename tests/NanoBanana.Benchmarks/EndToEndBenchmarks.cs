using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using NanoBanana.Emulator;

namespace NanoBanana.Benchmarks;

/// <summary>
/// A full GenerateAsync (route, validate, submit, poll, result) against the in-process emulator at zero latency,
/// next to the minimal hand-written HttpClient submit/poll loop most integrations start from.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class EndToEndBenchmarks
{
    private NanoBananaEmulator _emulator = null!;
    private NanoBananaClient _client = null!;
    private HttpClient _raw = null!;
    private readonly ImageJob _job = new("a lighthouse at dusk") { PinnedTier = ImageTier.NanoBanana2 };

    [GlobalSetup]
    public void Setup()
    {
        _emulator = NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = 0, LogBodies = false, MaxLogEntries = 1000 }).GetAwaiter().GetResult();
        _client = new NanoBananaClient(_emulator.ConfigureClient(new NanoBananaOptions()));
        _raw = new HttpClient { BaseAddress = _emulator.ApiBaseUrl };
        _raw.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "emulator-key");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _raw.Dispose();
        _emulator.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public async Task<string> HandWrittenLoop()
    {
        using var content = new StringContent("""{"prompt":"a lighthouse at dusk","size":"1K","aspect_ratio":"1:1"}""", Encoding.UTF8, "application/json");
        using var submit = await _raw.PostAsync("google/gemini-3.1-flash-image-preview/text-to-image", content);
        using var accepted = JsonDocument.Parse(await submit.Content.ReadAsStreamAsync());
        var id = accepted.RootElement.GetProperty("data").GetProperty("id").GetString()!;
        while (true)
        {
            using var poll = await _raw.GetAsync($"predictions/{id}/result");
            using var body = JsonDocument.Parse(await poll.Content.ReadAsStreamAsync());
            var data = body.RootElement.GetProperty("data");
            if (data.GetProperty("status").GetString() == "completed")
            {
                return data.GetProperty("outputs")[0].GetString()!;
            }
        }
    }

    [Benchmark]
    public async Task<string> SdkGenerateAsync()
    {
        var result = await _client.GenerateAsync(_job);
        return result.PredictionId;
    }
}
