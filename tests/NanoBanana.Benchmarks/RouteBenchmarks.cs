using BenchmarkDotNet.Attributes;
using NanoBanana.Routing;

namespace NanoBanana.Benchmarks;

/// <summary>TierPolicy.Route over typical requirements.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class RouteBenchmarks
{
    private readonly TierPolicy _policy = TierPolicy.Default;
    private readonly JobRequirements _default = new();
    private readonly JobRequirements _typography2K = new() { Size = ImageSize.TwoK, TypographyCritical = true, AspectRatio = AspectRatio.Parse("3:4") };
    private readonly JobRequirements _banner = new() { AspectRatio = AspectRatio.Parse("1:8"), TypographyCritical = true, MaxCostUsd = 0.2m };
    private readonly JobRequirements _cost4K = new() { Size = ImageSize.FourK, Priority = RoutingPriority.Cost, FaceCount = 2, ObjectCount = 3 };

    [Benchmark(Baseline = true)]
    public RoutingDecision Default1K() => _policy.Route(_default);

    [Benchmark]
    public RoutingDecision Typography2K() => _policy.Route(_typography2K);

    [Benchmark]
    public RoutingDecision Banner1x8() => _policy.Route(_banner);

    [Benchmark]
    public RoutingDecision Cost4KWithReferences() => _policy.Route(_cost4K);
}
