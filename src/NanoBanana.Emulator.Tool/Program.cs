using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.InteropServices;
using NanoBanana.Emulator;

// nanobanana-emulator [--port 5080] [--time-scale 1] [--api-key KEY] [--fault-rate 0.2] [--fault-target any|submit|poll]
//                     [--report-execution-time] [--execution-time-factor 1] [--latency uniform|lognormal|two-mode]
//                     [--queued-status S] [--running-status S] [--lean-polls] [--urls-array] [--iso-timestamps]
//                     [--output-urls absolute|root-relative|scheme-relative] [--output-content-type T] [--request-delay MS] [--seed N] [--plain-images]
var port = new Option<int>("--port")
{
    Description = "Port on 127.0.0.1 (0 picks a free one)",
    HelpName = "N",
    DefaultValueFactory = _ => 5080,
    CustomParser = r => (int)ParseNumber(r, "--port", "a whole number from 0 to 65535", 5080, v => v is >= 0 and <= 65535 && v == Math.Floor(v)),
};
var timeScale = new Option<double>("--time-scale")
{
    Description = "Latency scale above 0: 1 is real time, 0.1 makes a 4-8 s job take 0.4-0.8 s",
    HelpName = "X",
    DefaultValueFactory = _ => 1.0,
    CustomParser = r => ParseNumber(r, "--time-scale", $"a number above 0 and at most {NanoBananaEmulator.MaxTimeScale}, such as 0.1", 1, v => v is > 0 and <= NanoBananaEmulator.MaxTimeScale),
};
var apiKey = new Option<string?>("--api-key") { Description = "The only key accepted (default: any non-empty key)", HelpName = "KEY" };
apiKey.Validators.Add(r =>
{
    if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string?>()))
    {
        r.AddError("--api-key must not be empty.");
    }
});
var faultRate = new Option<double>("--fault-rate")
{
    Description = "Share of exchanges (0-1) hit by a random injected fault",
    HelpName = "X",
    CustomParser = r => ParseNumber(r, "--fault-rate", "a number from 0 to 1", 0, v => v is >= 0 and <= 1),
};
var executionTime = new Option<bool>("--report-execution-time") { Description = "Report executionTime on completed jobs (off: as services that send 0 or nothing)" };
var executionTimeFactor = new Option<double>("--execution-time-factor")
{
    Description = "With --report-execution-time, report this many times the true time: 0.001 is a service sending seconds where milliseconds are read, 0.7 one that leaves out the queue",
    HelpName = "X",
    DefaultValueFactory = _ => 1.0,
    CustomParser = r => ParseNumber(r, "--execution-time-factor", "a number above 0, such as 0.001", 1, v => v > 0),
};
var latency = new Option<string>("--latency")
{
    Description = "Completion-time shape of every model: uniform (the catalog's ranges), lognormal (sigma 0.45) or two-mode (30% queued 2-3x longer)",
    HelpName = "SHAPE",
    DefaultValueFactory = _ => "uniform",
};
OneOf(latency, "uniform", "lognormal", "two-mode");
var labels = new Option<bool>("--plain-images") { Description = "Plain gradients instead of images labelled with model, size, ratio, id and prompt" };

// A service that is not the documented one, from another process: what the library's EmulatorOptions can change.
var faultTarget = new Option<string>("--fault-target")
{
    Description = "What --fault-rate hits: any exchange, only submits, or only polls (submits then always answer, so jobs can be counted)",
    HelpName = "any|submit|poll",
    DefaultValueFactory = _ => "any",
};
OneOf(faultTarget, "any", "submit", "poll");
var queuedStatus = new Option<string>("--queued-status") { Description = "The status of a job not yet running (a service may say queued or pending)", HelpName = "S", DefaultValueFactory = _ => "created" };
var runningStatus = new Option<string>("--running-status") { Description = "The status of a running job (a service may say running)", HelpName = "S", DefaultValueFactory = _ => "processing" };
var completedStatus = new Option<string>("--completed-status") { Description = "The status of a finished job (a relay may say succeeded; clients then need a status alias)", HelpName = "S", DefaultValueFactory = _ => "completed" };
var failedStatus = new Option<string>("--failed-status") { Description = "The status of a failed job (a relay may say error)", HelpName = "S", DefaultValueFactory = _ => "failed" };
var leanPolls = new Option<bool>("--lean-polls") { Description = "Answer polls with only status, outputs and error: no id, model, poll URL, timings or timestamp" };
var urlsArray = new Option<bool>("--urls-array") { Description = "Send urls as an array of objects, as some relays do" };
var outputUrls = new Option<string>("--output-urls")
{
    Description = "How output URLs are written: absolute, root-relative (/outputs/...) or scheme-relative (//host/outputs/...)",
    HelpName = "absolute|root-relative|scheme-relative",
    DefaultValueFactory = _ => "absolute",
};
OneOf(outputUrls, "absolute", "root-relative", "scheme-relative");
var isoTimestamps = new Option<bool>("--iso-timestamps") { Description = "Send created_at as ISO 8601 instead of \"yyyy-MM-dd HH:mm:ss\"" };
var outputContentType = new Option<string?>("--output-content-type") { Description = "The Content-Type of output downloads, such as binary/octet-stream (how S3 serves an object stored without one); \"\" sends none", HelpName = "T" };
var maxDelayMs = EmulatorOptions.MaxRequestDelay.TotalMilliseconds.ToString(CultureInfo.InvariantCulture); // the library's bound, in the option's unit
var requestDelay = new Option<double>("--request-delay")
{
    Description = $"Milliseconds every request takes to arrive, as over a network (real time, not scaled; at most {maxDelayMs})",
    HelpName = "MS",
    CustomParser = r => ParseNumber(r, "--request-delay", $"a number of milliseconds from 0 to {maxDelayMs}", 0, v => v >= 0 && v <= EmulatorOptions.MaxRequestDelay.TotalMilliseconds),
};
var seed = new Option<int?>("--seed")
{
    Description = "Seed of the emulator's random draws (latencies, faults), for runs that repeat",
    HelpName = "N",
    CustomParser = r => (int)ParseNumber(r, "--seed", "a whole number from 0 to 2147483647", 0, v => v is >= 0 and <= int.MaxValue && v == Math.Floor(v)),
};

var root = new RootCommand("""
    NanoBanana emulator: the /api/v3 image API of GPT Proto and WaveSpeedAI on 127.0.0.1, with real PNG outputs.
    Stops on Ctrl+C or SIGTERM. Exit codes: 0 stopped, 1 could not listen, 2 bad arguments.
    """)
{
    port, timeScale, apiKey, faultRate, faultTarget, executionTime, executionTimeFactor, latency, labels,
    queuedStatus, runningStatus, completedStatus, failedStatus, leanPolls, urlsArray, outputUrls, isoTimestamps, outputContentType, requestDelay, seed,
};
root.SetAction(async (parse, cancellationToken) =>
{
    var options = new EmulatorOptions
    {
        Port = parse.GetValue(port),
        TimeScale = parse.GetValue(timeScale),
        ApiKey = parse.GetValue(apiKey),
        FaultRate = parse.GetValue(faultRate),
        ReportExecutionTime = parse.GetValue(executionTime),
        ExecutionTimeFactor = parse.GetValue(executionTimeFactor),
        Latency = parse.GetValue(latency) switch
        {
            "lognormal" => new LatencyProfile { Shape = LatencyShape.LogNormal },
            "two-mode" => new LatencyProfile { Shape = LatencyShape.TwoMode },
            _ => new LatencyProfile(),
        },
        LabelImages = !parse.GetValue(labels),
        RandomFaultTarget = parse.GetValue(faultTarget) switch
        {
            "submit" => FaultTarget.Submit,
            "poll" => FaultTarget.Poll,
            _ => FaultTarget.Any,
        },
        QueuedStatus = parse.GetValue(queuedStatus)!,
        RunningStatus = parse.GetValue(runningStatus)!,
        CompletedStatus = parse.GetValue(completedStatus)!,
        FailedStatus = parse.GetValue(failedStatus)!,
        LeanPolls = parse.GetValue(leanPolls),
        UrlsAsArray = parse.GetValue(urlsArray),
        OutputUrls = parse.GetValue(outputUrls) switch
        {
            "root-relative" => OutputUrlForm.RootRelative,
            "scheme-relative" => OutputUrlForm.SchemeRelative,
            _ => OutputUrlForm.Absolute,
        },
        IsoTimestamps = parse.GetValue(isoTimestamps),
        OutputContentType = parse.GetValue(outputContentType),
        RequestDelay = TimeSpan.FromMilliseconds(parse.GetValue(requestDelay)),
        Seed = parse.GetValue(seed),
    };
    NanoBananaEmulator emulator;
    try
    {
        emulator = await NanoBananaEmulator.StartAsync(options, cancellationToken);
    }
    catch (IOException ex)
    {
        Console.Error.WriteLine($"Could not listen on 127.0.0.1:{options.Port}: {ex.Message} Try another --port (0 picks a free one).");
        return 1;
    }
    catch (ArgumentException ex)
    {
        // Settings the library refuses (a status that is terminal, say): its message names each one, here by its option.
        var message = ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal)
            .Replace("EmulatorOptions.QueuedStatus", "--queued-status", StringComparison.Ordinal)
            .Replace("EmulatorOptions.RunningStatus", "--running-status", StringComparison.Ordinal)
            .Replace("EmulatorOptions.CompletedStatus", "--completed-status", StringComparison.Ordinal)
            .Replace("EmulatorOptions.FailedStatus", "--failed-status", StringComparison.Ordinal);
        Console.Error.WriteLine(message);
        Console.Error.WriteLine("Run with --help for the options.");
        return 2;
    }

    await using (emulator)
    {
        Console.WriteLine($"NanoBanana emulator listening on {emulator.ApiBaseUrl} (time scale {options.TimeScale.ToString(CultureInfo.InvariantCulture)}). Ctrl+C or SIGTERM to stop.");
        Console.WriteLine($"Configure the client with NanoBanana:BaseUrl={emulator.ApiBaseUrl} and {(options.ApiKey is null ? "any API key" : "the key given")}.");
        if (options.TimeScale != 1)
        {
            // Otherwise the client polls as at real time: at 0.1, a 0.4-0.8 s job is first polled after about 4.7 s.
            var scale = options.TimeScale.ToString(CultureInfo.InvariantCulture);
            Console.WriteLine($"So that it polls to match time scale {scale}: NanoBananaEmulator.ScaleClient(options, {scale}) in code, or --emulator-time-scale {scale} with the nanobanana CLI.");
        }

        // Ctrl+C and SIGTERM both cancel this token: System.CommandLine handles the signals (and holds the process until
        // this action returns, up to two seconds). A SIGTERM handler of our own beside it could race it: when ours let
        // this action finish first, System.CommandLine's handler, already called for the same signal, could cancel its
        // token source after InvokeAsync had disposed it: an ObjectDisposedException on the signal thread, which aborts
        // the process (exit 134) instead of exiting 0.
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onCancel = cancellationToken.Register(() => stop.TrySetResult());
#if !NET10_0_OR_GREATER
        // System.CommandLine's netstandard2.0 build, the one net8.0 gets, hears SIGTERM only through ProcessExit, when the
        // runtime is already ending the process: the tool's net8.0 build exited 143 without stopping or saying so. There
        // SIGTERM is taken here first (so ProcessExit never comes, and nothing races) and stops the emulator as Ctrl+C does.
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.TrySetResult();
        });
#endif
        await stop.Task;
        Console.WriteLine($"Emulator stopped ({emulator.AcceptedSubmits} {(emulator.AcceptedSubmits == 1 ? "job" : "jobs")} accepted).");
    }

    return 0;
});

var result = root.Parse(args);
if (result.Errors.Count > 0)
{
    foreach (var error in result.Errors)
    {
        Console.Error.WriteLine(error.Message);
    }

    Console.Error.WriteLine("Run with --help for the options.");
    return 2;
}

return await result.InvokeAsync();

// Reads one number; a bad one becomes an error naming the option, what it accepts and what it got.
static double ParseNumber(ArgumentResult result, string name, string expected, double fallback, Func<double, bool> valid)
{
    if (result.Tokens.Count == 0)
    {
        return fallback;
    }

    var text = result.Tokens[0].Value;
    if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && valid(value))
    {
        return value;
    }

    result.AddError($"{name} must be {expected} (got '{text}').");
    return fallback;
}

// Accepts only the words given; another is an error naming the option, the words and what it got.
static void OneOf(Option<string> option, params string[] words) =>
    option.Validators.Add(r =>
    {
        if (r.GetValueOrDefault<string>() is { } given && !words.Contains(given, StringComparer.Ordinal))
        {
            r.AddError($"{option.Name} must be {string.Join(", ", words[..^1])} or {words[^1]} (got '{given}').");
        }
    });
