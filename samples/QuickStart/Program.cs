using NanoBanana;
using NanoBanana.Diagnostics;
using NanoBanana.Emulator;
using NanoBanana.Polling;
using NanoBanana.Samples;

// QuickStart: one job, routed, generated, explained and written to disk.
// Without NANOBANANA_API_KEY it runs against the built-in emulator (real HTTP on 127.0.0.1, real PNG output).
var prompt = args.Length > 0 ? string.Join(' ', args) : "A poster for a summer jazz festival with the title 'BLUE NOTES' in bold art-deco letters";
var outputDir = Path.Combine(Environment.CurrentDirectory, "output");
using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };

var options = new NanoBananaOptions();
NanoBananaEmulator? emulator = null;
if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable)))
{
    // Time scale 0.2: a Pro job that takes 10-20 s on the real service takes 2-4 s here.
    emulator = await NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = 0.2 }, cts.Token);
    emulator.ConfigureClient(options);
    Console.WriteLine($"No {NanoBananaOptions.ApiKeyEnvironmentVariable} set: using the local emulator at {emulator.ApiBaseUrl}");
}
else
{
    Console.WriteLine($"Using {options.EffectiveBaseUrl}");
}

if (!Settings.Check(options))
{
    return Settings.ErrorExitCode;
}

try
{
    using var client = new NanoBananaClient(options);
    var job = new ImageJob(prompt) { Size = ImageSize.TwoK, AspectRatio = AspectRatio.Parse("3:4"), TypographyCritical = true };

    var decision = client.Route(job);
    Console.WriteLine();
    Console.WriteLine(decision.Explain());
    Console.WriteLine();

    var progress = new Progress<GenerationProgress>(p => Console.WriteLine($"  {SafeText.Value(p.PredictionId)}: {SafeText.Value(p.Status.Value)} after {p.Elapsed.TotalSeconds:0.0} s ({p.PollCount} {(p.PollCount == 1 ? "poll" : "polls")})"));
    var result = await client.GenerateAsync(job, progress, cts.Token);

    // The service chose the id: SuggestFileName makes it one file name, so it cannot point outside the folder.
    var path = Path.Combine(outputDir, result.Images[0].SuggestFileName("quickstart-"));
    string mediaType;
    try
    {
        Directory.CreateDirectory(outputDir);
        mediaType = await result.Images[0].SaveAsync(path, cts.Token);
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
    {
        // The job is done and paid for: say how to collect it rather than lose it with a stack trace. The service chose
        // the id: SafeText shows it as the SDK's own messages do, so it cannot act on the terminal.
        var id = SafeText.Value(result.PredictionId);
        Console.Error.WriteLine($"Prediction {id} completed, but {path} could not be written: {ex.Message}");
        Console.Error.WriteLine($"Collect it: {CollectHint(result.PredictionId, result.Model.Id, " --out <a folder you can write>")}");
        if (emulator is not null)
        {
            Console.Error.WriteLine("(This run used the built-in emulator, which stops with it: resuming needs a real service.)");
        }

        return 1;
    }

    Console.WriteLine();
    Console.WriteLine($"{result}");
    Console.WriteLine($"Wrote {mediaType} {result.Images[0].ExpectedSize} to {path} ({new FileInfo(path).Length:N0} bytes)");
    return 0;
}
catch (PredictionCanceledException ex)
{
    // Ctrl+C (or the 5-minute limit) after the service accepted the job: it runs on and is billed if it completes.
    var id = SafeText.Value(ex.PredictionId);
    Console.Error.WriteLine($"Cancelled. Prediction {id} on {ex.ModelId} was accepted and keeps running.");
    Console.Error.WriteLine($"Collect it later: {CollectHint(ex.PredictionId ?? "", ex.ModelId)}");
    return 130;
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    Console.Error.WriteLine("Cancelled before anything was sent: nothing accepted, nothing billed.");
    return 130;
}
catch (SubmitOutcomeUnknownException ex) when (cts.IsCancellationRequested)
{
    Console.Error.WriteLine($"Cancelled while submitting: {ex.Message}");
    return 130;
}
catch (NanoBananaException ex)
{
    Console.Error.WriteLine($"Failed: {ex.Message}");
    if (ex.PredictionId is { } id)
    {
        Console.Error.WriteLine($"Resume later: {CollectHint(id, ex.ModelId)}");
    }

    return 1;
}
finally
{
    if (emulator is not null)
    {
        await emulator.DisposeAsync();
    }
}

// How to collect an accepted job: the C# call, or the CLI command.
static string CollectHint(string id, string? model, string cliExtra = "") =>
    $"{ResumeHint.Call(id, model)}  or  {ResumeHint.Command(id, model)}{cliExtra}";
