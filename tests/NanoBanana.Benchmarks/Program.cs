using BenchmarkDotNet.Running;
using NanoBanana.Benchmarks;

// dotnet run -c Release --project tests/NanoBanana.Benchmarks -- [polling|polling-restart|polling-sim|polling-summary <files>|scale|soak|hostile|batch-soak [jobs [crash|throughput|budget]]|<BenchmarkDotNet args>]
return args.FirstOrDefault() switch
{
    "scale" => await ScaleHarness.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000),
    "hostile" => await HostileHarness.RunAsync(),
    "soak" => await SoakCommand.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000),
    "polling" => await PollingHarness.RunAsync(),
    "polling-restart" => await RestartHarness.RunAsync(),
    "batch-soak" => await BatchSoak.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000, args.ElementAtOrDefault(2)),
    "polling-sim" => PollingSimulation.Run(),
    "polling-summary" => PollingSummary.Run(args[1..]),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(RouteBenchmarks).Assembly).Run(args);
    return 0;
}
