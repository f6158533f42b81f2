using System.Globalization;
using NanoBanana.Emulator;

// dotnet run --project src/NanoBanana.Emulator -- [--port 5080] [--time-scale 1] [--api-key KEY] [--fault-rate 0.2]
var options = new EmulatorOptions { Port = 5080 };
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--port": options.Port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--time-scale": options.TimeScale = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--api-key": options.ApiKey = args[i + 1]; break;
        case "--fault-rate":
            options.FaultRate = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
            foreach (var kind in Enum.GetValues<FaultKind>())
            {
                options.RandomFaults.Add(kind);
            }

            break;
        default: Console.Error.WriteLine($"Unknown option {args[i]}"); return 2;
    }
}

await using var emulator = await NanoBananaEmulator.StartAsync(options);
Console.WriteLine($"NanoBanana emulator listening on {emulator.ApiBaseUrl} (time scale {options.TimeScale}). Ctrl+C to stop.");
Console.WriteLine($"Configure the client with NanoBanana:BaseUrl={emulator.ApiBaseUrl} and any API key{(options.ApiKey is null ? "" : " (the one given)")}.");
var done = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; done.TrySetResult(); };
await done.Task;
return 0;
