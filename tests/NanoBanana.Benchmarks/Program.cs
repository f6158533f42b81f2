using BenchmarkDotNet.Running;
using NanoBanana.Benchmarks;

// dotnet run -c Release --project tests/NanoBanana.Benchmarks -- [polling|scale|soak|<BenchmarkDotNet args>]
return args.FirstOrDefault() switch
{
    "schedule-sim" => ScheduleSimulation.Run(),
    "polling" => await PollingHarness.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(RouteBenchmarks).Assembly).Run(args);
    return 0;
}
