namespace NanoBanana.Polling;

/// <summary>
/// Optimal inspection times for a known completion-time distribution: a dynamic program over the grid that minimises
/// expected polls + λ · expected detection lag, with λ solved so that the lag meets a target (or the polls meet a
/// budget). Polls are at least <c>min</c> and at most <c>max</c> apart; in plans to a lag target, after the first at
/// most <see cref="MaxGapShare"/> of the time already waited or the tail's gap, whichever is longer. Cost:
/// O(bins × gaps) per λ, about 25 λ.
/// </summary>
internal static class OptimalPollPlanner
{
    private const int LambdaIterations = 26;

    /// <summary>
    /// For plans to a lag target: after the first poll, the longest wait before the next, as a share of the time since
    /// the job started (but never less than the gap the plan keeps past its grid, twice the lag target). The estimate
    /// can be wrong (few observations, or a service unlike the catalog), and a plan optimised for a wrong estimate can
    /// leave a long gap where the estimate has no mass, so a job that finishes there waits for the far side of the gap:
    /// with a service three times faster than the catalog, Nano Banana Pro jobs of 6.2–6.6 s were first seen at
    /// 12.75–14.25 s (simulation). With this cap a job is seen no later than the latest of its first poll, 1.5× its
    /// completion time, and its completion time plus the tail's gap, whatever the estimate. Over the true distributions
    /// the polling harness measures, the optimum's plans cost the same with the cap as without; a rare long queue (10% of jobs 5–10× longer) is where it
    /// costs, 2% more requests for Nano Banana 2's optimum (docs/benchmarks.md). Budget plans are not capped: a budget
    /// is counted over the estimate, and capped gaps in an estimated tail that is not there (a service faster than the
    /// catalog) spent the budget there and pushed the first poll late.
    /// </summary>
    public const double MaxGapShare = 0.5;

    /// <summary>The plan with the fewest expected polls whose expected lag is at most <paramref name="targetLag"/>.</summary>
    public static PollPlan ForLag(CompletionTimeDistribution d, double targetLag, double min, double max)
    {
        var tailGap = 2 * targetLag;
        return Search(d, tailGap, min, max, (_, lag) => lag <= targetLag, preferLow: true) ?? Solve(d, 1e5, tailGap, min, max);
    }

    /// <summary>
    /// The plan with the least expected lag whose expected polls stay within <paramref name="share"/> of what a fixed
    /// loop at <paramref name="interval"/> would send over the same distribution; the loop itself when no such plan
    /// has less lag than it.
    /// </summary>
    public static PollPlan ForBudget(CompletionTimeDistribution d, double interval, double share, double min, double max)
    {
        var budget = 0.0;
        var m = d.Mass;
        for (var j = 0; j < d.Bins; j++)
        {
            budget += m[j] * Math.Ceiling(((j + 0.5) * d.BinWidth) / interval);
        }

        budget += m[d.Bins] * Math.Ceiling((d.GridEnd / interval) + 1);
        budget *= share;

        // When the loop itself sends about one poll per job (nearly every job done by its first poll, as on a service
        // much faster than the loop's interval), the only plans under the budget poll once, past the estimate's whole
        // tail (a few jobs that may run long, or the catalog prior's share), and cost seconds of lag: Nano Banana's
        // frugal lag on a service three times faster than the catalog was 5 s. The loop's own polls are then the plan:
        // a few percent more requests than the budget, never more than the loop, and no more lag than the loop.
        var loop = FixedLoop(d, interval, min, max);
        var plan = Search(d, interval, min, max, (polls, _) => polls <= budget, preferLow: false, capGaps: false);
        return plan is not null && plan.ExpectedLag <= loop.ExpectedLag ? plan : loop;
    }

    /// <summary>A fixed loop at <paramref name="interval"/> from the job's start, as a plan over <paramref name="d"/>.</summary>
    public static PollPlan FixedLoop(CompletionTimeDistribution d, double interval, double min, double max)
    {
        var n = d.Bins;
        var h = d.BinWidth;
        var (p, m) = PrefixSums(d);
        var step = Math.Max(1, (int)Math.Round(interval / h));
        var next = new int[n + 1];
        var polls = new double[n + 1];
        var lag = new double[n + 1];
        next[n] = n;
        polls[n] = d.Mass[n];
        lag[n] = d.Mass[n] * interval / 2;
        for (var i = n - 1; i >= 0; i--)
        {
            var k = Math.Min(n, ((i / step) + 1) * step);
            next[i] = k;
            polls[i] = 1 - p[i] + polls[k];
            lag[i] = (k * h * (p[k] - p[i])) - (m[k] - m[i]) + lag[k];
        }

        return new PollPlan(next, h, interval, min, max, polls[0], lag[0]);
    }

    // P[i] = mass before grid point i, M[i] = that mass times its mean time.
    private static (double[] P, double[] M) PrefixSums(CompletionTimeDistribution d)
    {
        var mass = d.Mass;
        var p = new double[d.Bins + 1];
        var m = new double[d.Bins + 1];
        for (var j = 0; j < d.Bins; j++)
        {
            p[j + 1] = p[j] + mass[j];
            m[j + 1] = m[j] + (mass[j] * (j + 0.5) * d.BinWidth);
        }

        return (p, m);
    }

    // Geometric bisection on λ. Lag falls and polls rise with λ. preferLow: the smallest λ that satisfies the goal
    // (fewest polls for the lag); otherwise the largest λ that satisfies it (least lag for the budget). Null when no λ
    // tried satisfies it. The goal reads (expected polls, expected lag). One program serves every λ: the prefix sums
    // and the scratch arrays are made once, and only the plan kept is materialised.
    private static PollPlan? Search(CompletionTimeDistribution d, double tailGap, double min, double max, Func<double, double, bool> goal, bool preferLow, bool capGaps = true)
    {
        var program = new DynamicProgram(d);
        var work = new int[d.Bins + 1];
        int[]? best = null;
        double bestPolls = 0, bestLag = 0;
        double lo = 1e-3, hi = 1e5;
        for (var iteration = 0; iteration < LambdaIterations; iteration++)
        {
            var lambda = Math.Sqrt(lo * hi);
            var (polls, lag) = program.Run(lambda, tailGap, min, max, capGaps, work);
            var ok = goal(polls, lag);
            if (ok)
            {
                (best, work) = (work, best ?? new int[d.Bins + 1]);
                (bestPolls, bestLag) = (polls, lag);
            }

            if (ok == preferLow)
            {
                hi = lambda;
            }
            else
            {
                lo = lambda;
            }
        }

        return best is null ? null : new PollPlan(best, d.BinWidth, tailGap, min, max, bestPolls, bestLag);
    }

    /// <summary>The schedule minimising E[polls] + λ E[lag]; <paramref name="capGaps"/>: with <see cref="MaxGapShare"/>.</summary>
    public static PollPlan Solve(CompletionTimeDistribution d, double lambda, double tailGap, double min, double max, bool capGaps = true)
    {
        var next = new int[d.Bins + 1];
        var (polls, lag) = new DynamicProgram(d).Run(lambda, tailGap, min, max, capGaps, next);
        return new PollPlan(next, d.BinWidth, tailGap, min, max, polls, lag);
    }

    // The dynamic program over one distribution's grid.
    private sealed class DynamicProgram(CompletionTimeDistribution d)
    {
        private readonly (double[] P, double[] M) _sums = PrefixSums(d);

        // W[i]: the least expected cost from "still running at grid point i" on, weighted by P(still running at i).
        private readonly double[] _w = new double[d.Bins + 1];
        private readonly double[] _polls = new double[d.Bins + 1];
        private readonly double[] _lag = new double[d.Bins + 1];

        // Fills next[i] (the next poll's grid point from grid point i) for λ; returns the plan's expected polls and lag.
        public (double Polls, double Lag) Run(double lambda, double tailGap, double min, double max, bool capGaps, int[] next)
        {
            var n = d.Bins;
            var h = d.BinWidth;
            var mass = d.Mass;
            var (p, m) = _sums;
            var (w, polls, lag) = (_w, _polls, _lag);

            var minStep = Math.Max(1, (int)Math.Ceiling((min / h) - 1e-9));
            var maxStep = Math.Max(minStep, (int)Math.Floor((max / h) + 1e-9));
            var floorStep = (int)Math.Floor((tailGap / h) + 1e-9); // the cap never forbids a gap as short as the tail's

            var beyond = mass[n];
            w[n] = beyond * (1 + (lambda * tailGap / 2));
            polls[n] = beyond;
            lag[n] = beyond * tailGap / 2;
            next[n] = n;
            for (var i = n - 1; i >= 0; i--)
            {
                var running = 1 - p[i];
                var bestCost = double.PositiveInfinity;
                var bestK = n;
                var reach = i == 0 || !capGaps ? maxStep : Math.Min(maxStep, Math.Max(Math.Max(minStep, floorStep), (int)(MaxGapShare * i)));
                var last = Math.Min(n, i + reach);
                for (var k = Math.Min(n, i + minStep); k <= last; k++)
                {
                    var detected = (k * h * (p[k] - p[i])) - (m[k] - m[i]);
                    var cost = running + (lambda * detected) + w[k];
                    if (cost < bestCost)
                    {
                        bestCost = cost;
                        bestK = k;
                    }
                }

                w[i] = bestCost;
                next[i] = bestK;
                polls[i] = running + polls[bestK];
                lag[i] = (bestK * h * (p[bestK] - p[i])) - (m[bestK] - m[i]) + lag[bestK];
            }

            return (polls[0], lag[0]);
        }
    }
}
