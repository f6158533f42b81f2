namespace NanoBanana.Polling;

/// <summary>
/// What one wait saw: the job completed in (<see cref="Lower"/>, <see cref="Upper"/>] seconds after its submit.
/// <see cref="Upper"/> is +∞ when the wait ended without seeing completion (deadline, cancellation: right-censored);
/// equal bounds are an exact time (a plausible <c>executionTime</c>, or a sync-mode answer).
/// </summary>
internal readonly record struct CompletionObservation(double Lower, double Upper)
{
    public bool IsCensored => double.IsPositiveInfinity(Upper);
}

/// <summary>
/// The nonparametric maximum-likelihood estimate of a completion-time distribution from interval-censored and
/// right-censored observations (Turnbull's self-consistency algorithm, i.e. EM), on a time grid, with a prior worth a
/// few pseudo-observations spread over the catalog's latency range, and recency weights that halve every
/// <c>halfLife</c> observations so that a service that slows down is followed. No observation is imputed to a point.
/// </summary>
internal static class IntervalCensoredEstimator
{
    /// <summary>Bins on the grid. Cost of one EM step: O(observations + bins).</summary>
    public const int Bins = 320;

    private const double FloorShare = 0.05;

    private const int MaxIterations = 200;

    // Half-width, in bins, of the final triangular smoothing.
    private const int SmoothingRadius = 5;
    private const double Tolerance = 1e-7;
    private const double MinWeight = 1e-3;

    /// <param name="newestLast">The observations, oldest first.</param>
    /// <param name="priorLow">The catalog's lowest typical latency (seconds).</param>
    /// <param name="priorHigh">The catalog's highest typical latency (seconds).</param>
    /// <param name="priorWeight">How many observations the prior is worth.</param>
    /// <param name="halfLife">Observations after which an observation's weight has halved.</param>
    public static CompletionTimeDistribution Estimate(ReadOnlySpan<CompletionObservation> newestLast, double priorLow, double priorHigh, double priorWeight, double halfLife)
    {
        priorHigh = Math.Max(priorHigh, priorLow + 1e-3);

        // Only observations that still weigh something take part (about ten half-lives).
        var keep = Math.Min(newestLast.Length, (int)Math.Ceiling(halfLife * Math.Log2(1 / MinWeight)) + 1);
        var obs = newestLast[^keep..];

        // The grid covers three times the catalog's range and every finite bound seen, with room to spare.
        var end = 3 * priorHigh;
        foreach (var o in obs)
        {
            end = Math.Max(end, 1.25 * (o.IsCensored ? o.Lower : o.Upper));
        }

        var h = end / Bins;
        var prior = new double[Bins + 1];

        // Most of the prior is uniform over the catalog's range. A little (FloorShare) keeps every cell possible so
        // data can move mass anywhere: flat up to the range's end, then a heavy tail (density ∝ t^-3) whose hazard
        // falls, so a job running far past everything seen is polled less and less often.
        var floorWeight = FloorShare * priorWeight;
        var flatShare = priorHigh / (priorHigh + (priorHigh / 2)); // flat part ∫ = H, tail part ∫ H^3 t^-3 = H/2
        for (var j = 0; j <= Bins; j++)
        {
            var lo = j * h;
            var hi = j == Bins ? double.PositiveInfinity : lo + h;
            var overlap = Math.Max(0, Math.Min(hi, priorHigh) - Math.Max(lo, priorLow));
            var flat = Math.Max(0, Math.Min(hi, priorHigh) - lo) / priorHigh;
            var tail = TailBeyond(Math.Max(lo, priorHigh), priorHigh) - TailBeyond(Math.Max(hi, priorHigh), priorHigh);
            prior[j] = (priorWeight * (1 - FloorShare) * overlap / (priorHigh - priorLow))
                + (floorWeight * ((flatShare * flat) + ((1 - flatShare) * tail)));
        }

        var count = obs.Length;
        var from = new int[count];
        var to = new int[count];
        var weight = new double[count];
        var totalWeight = 0.0;
        for (var i = 0; i < count; i++)
        {
            var o = obs[i];
            weight[i] = Math.Pow(0.5, (count - 1 - i) / halfLife);
            totalWeight += weight[i];
            if (o.IsCensored)
            {
                from[i] = Math.Clamp((int)(o.Lower / h), 0, Bins);
                to[i] = Bins;
            }
            else if (o.Upper - o.Lower < 1e-9)
            {
                from[i] = to[i] = Math.Clamp((int)(o.Upper / h), 0, Bins);
            }
            else
            {
                // Bins (jh, (j+1)h] that meet (Lower, Upper].
                from[i] = Math.Clamp((int)(o.Lower / h), 0, Bins);
                to[i] = Math.Clamp((int)Math.Ceiling(o.Upper / h) - 1, from[i], Bins);
            }
        }

        var priorTotal = 0.0;
        foreach (var x in prior)
        {
            priorTotal += x;
        }

        var p = new double[Bins + 1];
        for (var j = 0; j <= Bins; j++)
        {
            p[j] = prior[j] / priorTotal;
        }

        var prefix = new double[Bins + 2];
        var share = new double[Bins + 2];
        var em = new double[Bins + 1];
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            prefix[0] = 0;
            for (var j = 0; j <= Bins; j++)
            {
                prefix[j + 1] = prefix[j] + p[j];
            }

            Array.Clear(share);
            for (var i = 0; i < count; i++)
            {
                var inside = prefix[to[i] + 1] - prefix[from[i]];
                if (inside > 0)
                {
                    var c = weight[i] / inside;
                    share[from[i]] += c;
                    share[to[i] + 1] -= c;
                }
            }

            // Self-consistency: each cell gets its expected share of every observation that could have landed in it.
            var run = 0.0;
            var denominator = totalWeight + priorTotal;
            for (var j = 0; j <= Bins; j++)
            {
                run += share[j];
                em[j] = ((p[j] * run) + prior[j]) / denominator;
            }

            var change = 0.0;
            for (var j = 0; j <= Bins; j++)
            {
                change = Math.Max(change, Math.Abs(em[j] - p[j]));
                p[j] = em[j];
            }

            if (change < Tolerance)
            {
                break;
            }
        }

        // The NPMLE piles mass onto the few points where intervals overlap: one pass of a triangular kernel turns it
        // into a density without moving it (the smoothed NPMLE). Smoothing inside the iterations would instead diffuse
        // mass into regions no observation speaks about.
        return new CompletionTimeDistribution(h, Smooth(p));
    }

    private static double[] Smooth(double[] p)
    {
        const int radius = SmoothingRadius;
        var n = p.Length - 1; // the last cell (beyond the grid) is not smoothed
        var smoothed = new double[p.Length];
        smoothed[n] = p[n];
        for (var j = 0; j < n; j++)
        {
            double sum = 0, weightSum = 0;
            for (var k = Math.Max(0, j - radius); k <= Math.Min(n - 1, j + radius); k++)
            {
                var kw = radius + 1 - Math.Abs(k - j);
                sum += kw * p[k];
                weightSum += kw;
            }

            smoothed[j] = sum / weightSum;
        }

        return smoothed;
    }

    // The share of a t^-3 tail starting at h that lies beyond t (1 at t = h, 0 at infinity).
    private static double TailBeyond(double t, double h) => double.IsPositiveInfinity(t) ? 0 : (h / t) * (h / t);
}
