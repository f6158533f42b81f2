using BenchmarkDotNet.Attributes;
using NanoBanana.Catalog;
using NanoBanana.Polling;

namespace NanoBanana.Benchmarks;

/// <summary>
/// What a long-running client spends per completion to re-learn one model's completion times: the estimate over a full
/// window of waits (about ten half-lives, 639 with the default options), and the plan the default schedule derives
/// from it. The waits are interval-censored by a fixed poll plan, as a client would see them, from each harness shape
/// drawn for Nano Banana 2.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class EstimateBenchmarks
{
    private readonly PollingOptions _options = new();
    private readonly ImageModel _model = ModelCatalog.Default[ImageTier.NanoBanana2];
    private CompletionObservation[] _waits = [];
    private CompletionTimeDistribution _estimate = null!;

    /// <summary>The latency shape the waits are drawn from.</summary>
    [Params("uniform", "lognormal σ0.45", "two-mode 70/30")]
    public string Shape { get; set; } = "uniform";

    /// <summary>Draws the waits and makes one estimate for the plan benchmark.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var profile = LatencyShapes.Harness.Single(s => s.Name == Shape).Profile;
        var random = new Random(7);
        _waits = [.. Enumerable.Range(0, 1000).Select(i => Censor(profile.Sample(_model, random, i), random))];
        _estimate = Estimated();
    }

    /// <summary>The estimate alone.</summary>
    [Benchmark]
    public object Estimate() => Estimated();

    /// <summary>The default schedule's plan from a finished estimate.</summary>
    [Benchmark]
    public object Plan() =>
        OptimalPollPlanner.ForLag(_estimate, _options.TargetMeanLag.TotalSeconds, _options.MinInterval.TotalSeconds, _options.MaxInterval.TotalSeconds);

    private CompletionTimeDistribution Estimated() =>
        IntervalCensoredEstimator.Estimate(_waits, _model.TypicalLatencyMin.TotalSeconds, _model.TypicalLatencyMax.TotalSeconds, _options.LatencyPriorWeight, _options.LatencyHalfLife, timingSpread: 0.03);

    // The wait a client polling at 3.5 s and then every 0.6 s (±30 ms of timing noise) records for a job of `truth` seconds.
    private static CompletionObservation Censor(double truth, Random random)
    {
        var since = 0.0;
        var at = 3.5;
        while (true)
        {
            var seen = at + ((random.NextDouble() - 0.5) * 0.06);
            if (truth <= seen)
            {
                return new CompletionObservation(since, seen);
            }

            since = seen;
            at += 0.6;
        }
    }
}
