using NanoBanana.Catalog;
using NanoBanana.Emulator;
using NanoBanana.Polling;

namespace NanoBanana.Benchmarks;

/// <summary>Yardsticks for poll schedules over a known completion-time distribution.</summary>
internal static class PollingOptimum
{
    /// <summary>
    /// The optimum's plan for the default lag target over a latency profile's true distribution (100,000 draws, seed 99):
    /// the yardstick the polling harness judges warm against cold by, and the simulation's diagnostics with it.
    /// </summary>
    public static PollPlan PlanForTarget(LatencyProfile profile, ImageModel model)
    {
        var random = new Random(99);
        var truth = Truth(Enumerable.Range(0, 100_000).Select(_ => profile.Sample(model, random, 0)).ToArray());
        var options = new PollingOptions();
        return OptimalPollPlanner.ForLag(truth, options.TargetMeanLag.TotalSeconds, options.MinInterval.TotalSeconds, options.MaxInterval.TotalSeconds);
    }

    /// <summary>Exact completion times on the 4,000-bin grid the yardsticks use, reaching a quarter past the longest.</summary>
    public static CompletionTimeDistribution Truth(IReadOnlyCollection<double> seconds) =>
        CompletionTimeDistribution.FromSamples(seconds, 1.25 * seconds.Max() / 4000, 4000);

    // The least expected polls at a lag over randomised schedules: the lower convex hull of (lag, polls) that the
    // Lagrangian dynamic program traces as λ sweeps, interpolated linearly between its vertices. The default yardstick
    // (the plan the program finds at a lag no worse than the given one) is a step function of the lag: the program only
    // finds the hull's vertices; on two-mode Nano Banana two neighbouring ones lie at 0.345 s (4.97 polls) and 0.394 s (4.43).
    public static double HullPolls(CompletionTimeDistribution truth, double lag, double min, double max)
    {
        var points = new List<(double Lag, double Polls)>();
        for (var lambda = 0.05; lambda < 2000; lambda *= 1.03)
        {
            var plan = OptimalPollPlanner.Solve(truth, lambda, 2 * lag, min, max);
            points.Add((plan.ExpectedLag, plan.ExpectedPolls));
        }

        points.Sort();
        (double Lag, double Polls)? below = null, above = null;
        foreach (var pt in points)
        {
            // The nearest vertex on each side (every λ's plan is a vertex: polls fall as lag grows).
            if (pt.Lag <= lag && (below is null || pt.Lag > below.Value.Lag || (pt.Lag == below.Value.Lag && pt.Polls < below.Value.Polls)))
            {
                below = pt;
            }

            if (pt.Lag >= lag && (above is null || pt.Lag < above.Value.Lag || (pt.Lag == above.Value.Lag && pt.Polls < above.Value.Polls)))
            {
                above = pt;
            }
        }

        if (below is null || above is null)
        {
            return (below ?? above)!.Value.Polls;
        }

        var (l0, p0) = below.Value;
        var (l1, p1) = above.Value;
        return l1 - l0 < 1e-9 ? p0 : p0 + ((p1 - p0) * (lag - l0) / (l1 - l0));
    }
}
