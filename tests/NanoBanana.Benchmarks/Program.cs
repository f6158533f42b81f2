using BenchmarkDotNet.Running;
using NanoBanana.Benchmarks;

// dotnet run -c Release --project tests/NanoBanana.Benchmarks -- [polling|scale|soak|<BenchmarkDotNet args>]
return args.FirstOrDefault() switch
{
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(RouteBenchmarks).Assembly).Run(args);
    return 0;
}
