using System.Globalization;
using System.Runtime.InteropServices;
using NanoBanana.Emulator;

// dotnet run --project src/NanoBanana.Emulator -- [--port 5080] [--time-scale 1] [--api-key KEY] [--fault-rate 0.2]
const string Usage = """
    NanoBanana emulator: the /api/v3 image API of GPT Proto and WaveSpeedAI on 127.0.0.1, with real PNG outputs.

    Options:
      --port N          port on 127.0.0.1 (default 5080; 0 picks a free one)
      --time-scale X    latency scale, above 0 (default 1 = real time; 0.1 makes a 4-8 s job take 0.4-0.8 s)
      --api-key KEY     the only key accepted (default: any non-empty key)
      --fault-rate X    share of exchanges (0-1) hit by a random injected fault (default 0)
      -h, --help        this text

    Stops on Ctrl+C or SIGTERM. Exit codes: 0 stopped, 2 bad arguments.
    """;

var options = new EmulatorOptions { Port = 5080 };
for (var i = 0; i < args.Length; i++)
{
    var name = args[i];
    if (name is "-h" or "--help" or "-?")
    {
        Console.WriteLine(Usage);
        return 0;
    }

    if (i + 1 >= args.Length)
    {
        return Fail($"{name} needs a value.");
    }

    var value = args[++i];
    switch (name)
    {
        case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535:
            options.Port = port;
            break;
        case "--port":
            return Fail($"--port must be a whole number from 0 to 65535 (got '{value}').");
        case "--time-scale" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var scale) && scale > 0 && double.IsFinite(scale):
            options.TimeScale = scale;
            break;
        case "--time-scale":
            return Fail($"--time-scale must be a number above 0, such as 0.1 (got '{value}').");
        case "--api-key" when !string.IsNullOrWhiteSpace(value):
            options.ApiKey = value;
            break;
        case "--api-key":
            return Fail("--api-key must not be empty.");
        case "--fault-rate" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate is >= 0 and <= 1:
            options.FaultRate = rate;
            foreach (var kind in Enum.GetValues<FaultKind>())
            {
                options.RandomFaults.Add(kind);
            }

            break;
        case "--fault-rate":
            return Fail($"--fault-rate must be a number from 0 to 1 (got '{value}').");
        default:
            return Fail($"Unknown option '{name}'.");
    }
}

NanoBananaEmulator emulator;
try
{
    emulator = await NanoBananaEmulator.StartAsync(options);
}
catch (IOException ex)
{
    Console.Error.WriteLine($"Could not listen on 127.0.0.1:{options.Port}: {ex.Message} Try another --port (0 picks a free one).");
    return 1;
}

await using (emulator)
{
    Console.WriteLine($"NanoBanana emulator listening on {emulator.ApiBaseUrl} (time scale {options.TimeScale.ToString(CultureInfo.InvariantCulture)}). Ctrl+C or SIGTERM to stop.");
    Console.WriteLine($"Configure the client with NanoBanana:BaseUrl={emulator.ApiBaseUrl} and any API key{(options.ApiKey is null ? "" : " (the one given)")}.");
    var done = new TaskCompletionSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        done.TrySetResult();
    };
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true; // stop cleanly below instead of being torn down
        done.TrySetResult();
    });
    await done.Task;
    Console.WriteLine($"Emulator stopped ({emulator.AcceptedSubmits} jobs accepted).");
}

return 0;

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    Console.Error.WriteLine("Run with --help for the options.");
    return 2;
}
