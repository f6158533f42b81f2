using System.Diagnostics;
using NanoBanana;
using NanoBanana.Diagnostics;
using NanoBanana.Emulator;
using NanoBanana.Samples;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

// Telemetry: the SDK's spans and metrics exported with OTLP (HTTP/protobuf) to a collector, Jaeger, Aspire's
// dashboard or any OTLP endpoint. One job per tier, each image written to ./output.
//   dotnet run --project samples/Telemetry -- [--otlp http://127.0.0.1:4318/]
// The endpoint: --otlp, else OTEL_EXPORTER_OTLP_ENDPOINT, else http://127.0.0.1:4318/ (the OTLP/HTTP default port).
// Without NANOBANANA_API_KEY it runs against the built-in emulator.
var endpoint = new Uri(Argument("--otlp") ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") ?? "http://127.0.0.1:4318/");
if (!endpoint.AbsolutePath.EndsWith('/'))
{
    endpoint = new Uri(endpoint.AbsoluteUri + "/");
}

using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };

using var sampleSource = new ActivitySource("NanoBanana.Samples.Telemetry");
var resource = ResourceBuilder.CreateDefault().AddService("nanobanana-telemetry-sample");
using var tracing = Sdk.CreateTracerProviderBuilder()
    .SetResourceBuilder(resource)
    .AddSource(NanoBananaTelemetry.Name, sampleSource.Name)
    .AddOtlpExporter(o => Signal(o, "v1/traces"))
    .Build();
using var metrics = Sdk.CreateMeterProviderBuilder()
    .SetResourceBuilder(resource)
    .AddMeter(NanoBananaTelemetry.Name)
    .AddOtlpExporter(o => Signal(o, "v1/metrics"))
    .Build();

var options = new NanoBananaOptions();
await using var emulator = string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable))
    ? await NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = 0.05 }, cts.Token)
    : null;
emulator?.ConfigureClient(options);
Console.WriteLine(emulator is null ? $"Using {options.EffectiveBaseUrl}" : $"No {NanoBananaOptions.ApiKeyEnvironmentVariable} set: using the local emulator at {emulator.ApiBaseUrl}");
Console.WriteLine($"Exporting spans and metrics of \"{NanoBananaTelemetry.Name}\" with OTLP/HTTP to {endpoint}");

if (!Settings.Check(options))
{
    return Settings.ErrorExitCode;
}

var exit = 0;
using (var client = new NanoBananaClient(options))
{
    var outputDir = Path.Combine(Environment.CurrentDirectory, "output");
    Directory.CreateDirectory(outputDir);
    foreach (var tier in new[] { ImageTier.NanoBanana, ImageTier.NanoBanana2, ImageTier.NanoBananaPro })
    {
        // A span of our own around each job, so the SDK's spans of one job share a trace we can name.
        using var span = sampleSource.StartActivity("telemetry-sample.job");
        try
        {
            var result = await client.GenerateAsync(new ImageJob($"a lighthouse at dusk, {tier}") { PinnedTier = tier }, cts.Token);
            var path = Path.Combine(outputDir, result.Images[0].SuggestFileName("telemetry-"));
            await result.Images[0].SaveAsync(path, cts.Token);
            Console.WriteLine($"{tier}: prediction {SafeText.Value(result.PredictionId)}, {result.PollCount} polls, trace {span?.TraceId.ToString() ?? "(not sampled)"}, {path}");
        }
        catch (PredictionCanceledException ex)
        {
            // An id a shell takes as it is gets the CLI command; any other the C# call, with the id as an exact literal.
            var id = ex.PredictionId ?? "";
            Console.Error.WriteLine($"Cancelled. Prediction {SafeText.Value(id)} on {ex.ModelId} keeps running: {ResumeHint.Command(id, ex.ModelId)}");
            exit = 130;
            break;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("Cancelled before anything was accepted.");
            exit = 130;
            break;
        }
        catch (NanoBananaException ex)
        {
            Console.Error.WriteLine($"{tier}: {ex.Message}");
            exit = 1;
        }
    }
}

// Export what is buffered now rather than waiting for the next interval; a failed export (nothing listening) is
// reported here instead of being dropped silently.
var flushed = tracing.ForceFlush(10_000) & metrics.ForceFlush(10_000);
Console.WriteLine(flushed
    ? "Exported. Spans: nanobanana.generate > route, submit, poll, download. Metrics: see docs/telemetry.md."
    : $"Could not export everything to {endpoint}: is an OTLP/HTTP receiver listening there (for example an OpenTelemetry Collector on port 4318)?");
return exit;

void Signal(OtlpExporterOptions o, string path)
{
    o.Protocol = OtlpExportProtocol.HttpProtobuf;
    o.Endpoint = new Uri(endpoint, path); // with HTTP/protobuf a code-set endpoint is the full signal URL
}

string? Argument(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}
