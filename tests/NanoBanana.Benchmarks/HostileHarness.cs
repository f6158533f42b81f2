using System.Diagnostics;
using NanoBanana.Emulator;

namespace NanoBanana.Benchmarks;

/// <summary>
/// Memory under hostile responses (issue 9): a 512 MiB download (stopped at the default image limit, then streamed
/// whole to a file with the limit raised) and a 50 MB poll body. The working set is sampled every 5 ms during each
/// scenario and compared with the settled baseline before it; goal: peak within 100 MiB of the baseline.
/// </summary>
internal static class HostileHarness
{
    private const long MiB = 1024 * 1024;

    public static async Task<int> RunAsync()
    {
        var emulatorOptions = new EmulatorOptions { TimeScale = 0.01, Seed = 7, HugeOutputBytes = 512 * MiB, OversizedBodyBytes = 50_000_000 };
        await using var emulator = await NanoBananaEmulator.StartAsync(emulatorOptions);
        var ok = true;

        ok &= await MeasureAsync("512 MiB download, default MaxImageBytes (64 MiB): stops at the limit", emulator, null, async client =>
        {
            emulator.EnqueueFault(FaultKind.HugeOutput, FaultTarget.Submit);
            var result = await client.GenerateAsync(new ImageJob("hostile download"));
            try
            {
                await result.Images[0].SaveAsync(Path.Combine(Path.GetTempPath(), $"nb-hostile-{Guid.NewGuid():N}.png"));
                return "NOT STOPPED";
            }
            catch (ResponseLimitExceededException ex)
            {
                return $"{nameof(ResponseLimitExceededException)} at {ex.Limit / MiB} MiB, prediction {ex.PredictionId}";
            }
        });

        ok &= await MeasureAsync("512 MiB download streamed whole to a file (MaxImageBytes raised to 1 GiB)", emulator, o => o.Limits.MaxImageBytes = 1024 * MiB, async client =>
        {
            emulator.EnqueueFault(FaultKind.HugeOutput, FaultTarget.Submit);
            var result = await client.GenerateAsync(new ImageJob("hostile download"));
            var path = Path.Combine(Path.GetTempPath(), $"nb-hostile-{Guid.NewGuid():N}.png");
            try
            {
                await result.Images[0].SaveAsync(path);
                return $"saved {new FileInfo(path).Length / MiB} MiB";
            }
            finally
            {
                File.Delete(path);
            }
        });

        ok &= await MeasureAsync("50 MB poll body, default MaxJsonBytes (1 MiB)", emulator, null, async client =>
        {
            emulator.EnqueueFault(FaultKind.OversizedBody, FaultTarget.Poll);
            try
            {
                await client.GenerateAsync(new ImageJob("hostile poll"));
                return "NOT STOPPED";
            }
            catch (ResponseLimitExceededException ex)
            {
                return $"{nameof(ResponseLimitExceededException)} at {ex.Limit / MiB} MiB, prediction {ex.PredictionId}";
            }
        });

        Console.WriteLine(ok ? "goal met: every peak within 100 MiB of its baseline" : "GOAL MISSED");
        return ok ? 0 : 1;
    }

    private static async Task<bool> MeasureAsync(string name, NanoBananaEmulator emulator, Action<NanoBananaOptions>? configure, Func<NanoBananaClient, Task<string>> scenario)
    {
        var options = emulator.ConfigureClient(new NanoBananaOptions());
        configure?.Invoke(options);
        using var client = new NanoBananaClient(options);
        await client.GenerateAsync(new ImageJob("warm-up")); // JIT, connections
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var baseline = process.WorkingSet64;
        var peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var p = Process.GetCurrentProcess();
            while (!stop.IsCancellationRequested)
            {
                p.Refresh();
                peak = Math.Max(peak, p.WorkingSet64);
                await Task.Delay(5).ConfigureAwait(false);
            }
        });
        var watch = Stopwatch.StartNew();
        var outcome = await scenario(client);
        watch.Stop();
        await stop.CancelAsync();
        await sampler;
        var delta = (peak - baseline) / (double)MiB;
        var met = delta <= 100;
        Console.WriteLine($"{name}: {outcome}; baseline {baseline / (double)MiB:0} MiB, peak {peak / (double)MiB:0} MiB, delta {delta:0.0} MiB, {watch.Elapsed.TotalSeconds:0.0} s {(met ? "(within 100 MiB)" : "(OVER 100 MiB)")}");
        return met;
    }
}
