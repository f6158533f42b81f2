using System.Numerics;

namespace NanoBanana.Polling;

/// <summary>
/// The completion-time distribution estimated from interval-censored and right-censored observations: the
/// nonparametric maximum-likelihood estimate (Turnbull's self-consistency algorithm, i.e. EM, accelerated by SQUAREM) on a time grid, with a
/// prior worth a few pseudo-observations spread over the catalog's latency range and recency weights that halve every
/// <c>halfLife</c> observations. Where the observations leave the shape open (inside a stretch that no bound splits,
/// above all before the first poll) the prior's shape, once there are observations, is a log-normal fitted to them
/// (<see cref="LogNormalFit"/>); bounds closer than timing noise are read as one. Then smoothed by a Gaussian kernel in log time (Silverman's width, locally adapted by
/// Abramson's square-root law). No observation is imputed to a point. The smoothing matters: the raw NPMLE piles mass on a few points, and a poll plan optimised for
/// it skips the gaps between them, where the next jobs will finish.
/// </summary>
internal static class IntervalCensoredEstimator
{
    /// <summary>Bins on the grid. Cost of one EM step: O(observations + bins).</summary>
    public const int Bins = 320;

    private const double FloorShare = 0.05;
    private const int MaxIterations = 200;
    private const double Tolerance = 1e-7;
    private const double MinWeight = 1e-3;

    // Effective observations before the fitted log-normal shapes what the observations leave open.
    private const double MinObservationsForShape = 5;

    // Bounds closer than this share of the median gap between two polls are one bound seen with timing noise.
    private const double SameBoundShare = 0.25;


    // Silverman's constant, and bounds on the kernel's standard deviation in log time (a proportion of t).
    private const double Bandwidth = 0.9;
    private const double MinWidth = 0.01;
    private const double MaxWidth = 0.5;

    /// <param name="newestLast">The observations, oldest first.</param>
    /// <param name="priorLow">The catalog's lowest typical latency (seconds).</param>
    /// <param name="priorHigh">The catalog's highest typical latency (seconds).</param>
    /// <param name="priorWeight">How many observations the prior is worth.</param>
    /// <param name="halfLife">Observations after which an observation's weight has halved.</param>
    /// <param name="timingSpread">The measured timing noise of polls (seconds): bounds closer than this are one bound.</param>
    /// <param name="plainSteps">Tests only: plain EM steps, up to this many, instead of the accelerated iteration (0).</param>
    public static CompletionTimeDistribution Estimate(ReadOnlySpan<CompletionObservation> newestLast, double priorLow, double priorHigh, double priorWeight, double halfLife, double timingSpread = 0, int plainSteps = 0)
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
        var prior = Prior(h, priorLow, priorHigh, priorWeight);
        var count = obs.Length;
        var cells = new Cells(count);
        for (var i = 0; i < count; i++)
        {
            cells.Set(i, obs[i], h, Math.Pow(0.5, (count - 1 - i) / halfLife));
        }

        cells.MergeNearBounds(timingSpread / h);

        var p = SelfConsistent(cells, prior, plainSteps);
        var effectiveCount = cells.EffectiveCount();
        if (effectiveCount >= MinObservationsForShape)
        {
            // The likelihood fixes how much mass lies between observation bounds, not how it lies there: the fixed point
            // copies the prior's shape into every stretch that the same observations cover. With the catalog's range as
            // that shape, every job that finished before the first poll would sit at the range's lower edge, the plan
            // would keep its first poll late, and never learn otherwise. So once there are observations, the prior's
            // shape moves from the catalog range to the log-normal fitted to them (its weight stays the same), and the
            // estimate is made again.
            var (mu, sigma) = LogMoments(p, h);
            var fit = LogNormalFit.Fit(obs, cells.Weight, mu, sigma);
            prior = Prior(h, priorLow, priorHigh, priorWeight, fit, priorWeight / (priorWeight + effectiveCount));
            p = SelfConsistent(cells, prior, plainSteps);
        }

        return Smoothed(p, h, effectiveCount + priorWeight);
    }

    /// <summary>
    /// The grid masses <paramref name="p"/> (bin width <paramref name="h"/>, the last cell beyond the grid) smoothed as
    /// <see cref="Estimate"/> smooths its maximum-likelihood estimate, for <paramref name="effective"/> observations
    /// (the prior's pseudo-observations included). Separate so that a benchmark can smooth a known histogram and
    /// measure what the smoothing alone costs.
    /// </summary>
    public static CompletionTimeDistribution Smoothed(double[] p, double h, double effective)
    {
        // Silverman's rule in log time: the kernel's width follows the estimate's own spread (the smaller of its
        // standard deviation and its interquartile range / 1.34, which resists two modes) and shrinks as n^(-1/5) with
        // the effective number of observations (recency weights included) plus the prior's pseudo-observations.
        var width = Math.Clamp(Bandwidth * LogSpread(p, h) * Math.Pow(effective, -0.2), MinWidth, MaxWidth);

        // Abramson's square-root law: narrower kernels where a first smoothing is dense, wider in the sparse tails,
        // so a sharp rise stays sharp while the tails stay smooth.
        var pilot = Smooth(p, h, width, null);
        var local = new double[Bins];
        var logMean = 0.0;
        var mass = 0.0;
        for (var j = 0; j < Bins; j++)
        {
            local[j] = Math.Max(pilot[j] * (j + 0.5), 1e-12); // density in log time, up to a constant
            logMean += p[j] * Math.Log(local[j]);
            mass += p[j];
        }

        var geometricMean = Math.Exp(logMean / Math.Max(mass, 1e-12));
        for (var j = 0; j < Bins; j++)
        {
            local[j] = Math.Clamp(Math.Sqrt(geometricMean / local[j]), 1 / 3.0, 3);
        }

        return new CompletionTimeDistribution(h, Smooth(p, h, width, local));
    }

    // The mean and standard deviation of log completion times under p (within the grid).
    private static (double Mean, double Sd) LogMoments(double[] p, double h)
    {
        double mean = 0, square = 0, total = 0;
        for (var j = 0; j < Bins; j++)
        {
            var x = Math.Log((j + 0.5) * h);
            mean += p[j] * x;
            square += p[j] * x * x;
            total += p[j];
        }

        mean /= total;
        return (mean, Math.Sqrt(Math.Max(0, (square / total) - (mean * mean))));
    }

    // The spread of log completion times under p: min(standard deviation, interquartile range / 1.34).
    private static double LogSpread(double[] p, double h)
    {
        var (_, sd) = LogMoments(p, h);
        var total = 0.0;
        for (var j = 0; j < Bins; j++)
        {
            total += p[j];
        }

        double cumulative = 0, q25 = double.NaN, q75 = double.NaN;
        for (var j = 0; j < Bins && double.IsNaN(q75); j++)
        {
            cumulative += p[j] / total;
            if (double.IsNaN(q25) && cumulative >= 0.25)
            {
                q25 = Math.Log((j + 0.5) * h);
            }

            if (cumulative >= 0.75)
            {
                q75 = Math.Log((j + 0.5) * h);
            }
        }

        return double.IsNaN(q75) ? sd : Math.Min(sd, (q75 - q25) / 1.34);
    }

    // Most of the prior is uniform over the catalog's range. A little (FloorShare) keeps every cell possible so data can
    // move mass anywhere: flat up to the range's end, then a heavy tail (density ∝ t^-3) whose hazard falls, so a job
    // running far past everything seen is polled less and less often.
    private static double[] Prior(double h, double priorLow, double priorHigh, double priorWeight, LogNormalFit? fit = null, double catalogShare = 1)
    {
        var prior = new double[Bins + 1];
        var floorWeight = FloorShare * priorWeight;
        var flatShare = priorHigh / (priorHigh + (priorHigh / 2)); // flat part ∫ = H, tail part ∫ H^3 t^-3 = H/2
        for (var j = 0; j <= Bins; j++)
        {
            var lo = j * h;
            var hi = j == Bins ? double.PositiveInfinity : lo + h;
            var overlap = Math.Max(0, Math.Min(hi, priorHigh) - Math.Max(lo, priorLow));
            var flat = Math.Max(0, Math.Min(hi, priorHigh) - lo) / priorHigh;
            var tail = TailBeyond(Math.Max(lo, priorHigh), priorHigh) - TailBeyond(Math.Max(hi, priorHigh), priorHigh);
            var shape = catalogShare * overlap / (priorHigh - priorLow);
            if (fit is { } f)
            {
                shape += (1 - catalogShare) * (f.Cdf(hi) - f.Cdf(lo));
            }

            prior[j] = (priorWeight * (1 - FloorShare) * shape)
                + (floorWeight * ((flatShare * flat) + ((1 - flatShare) * tail)));
        }

        return prior;
    }

    // Turnbull's self-consistency iteration, with the prior as pseudo-observations, accelerated by squared
    // extrapolation (SQUAREM: Varadhan and Roland, 2008). Two plain steps give the direction of travel, the iterate jumps
    // along it by a step length from their sizes, and a plain step from there keeps it self-consistent; a jump that
    // would leave the simplex is not taken. The fixed point is the same as plain EM's; with many interval-censored
    // observations plain EM creeps towards it (hundreds of steps), this takes a fraction of them. MaxIterations counts
    // plain steps.
    private static double[] SelfConsistent(Cells cells, double[] prior, int plainSteps)
    {
        var priorTotal = 0.0;
        foreach (var x in prior)
        {
            priorTotal += x;
        }

        var totalWeight = 0.0;
        for (var i = 0; i < cells.Count; i++)
        {
            totalWeight += cells.Weight[i];
        }

        var p = new double[Bins + 1];
        for (var j = 0; j <= Bins; j++)
        {
            p[j] = prior[j] / priorTotal;
        }

        var em = new EmStep(cells, prior, totalWeight + priorTotal);
        var p1 = new double[Bins + 1];
        if (plainSteps > 0)
        {
            for (var step = 0; step < plainSteps; step++)
            {
                var change = em.Apply(p, p1);
                (p, p1) = (p1, p);
                if (change < Tolerance)
                {
                    break;
                }
            }

            return p;
        }

        var p2 = new double[Bins + 1];
        var jumped = new double[Bins + 1];
        var steps = 0;
        while (steps < MaxIterations)
        {
            steps++;
            if (em.Apply(p, p1) < Tolerance)
            {
                return p1;
            }

            steps++;
            if (em.Apply(p1, p2) < Tolerance)
            {
                return p2;
            }

            // r = p1 − p, v = (p2 − p1) − r; step length α = −|r| / |v|, at most −1 (−1 is plain EM's two steps).
            double rr = 0, vv = 0;
            for (var j = 0; j <= Bins; j++)
            {
                var r = p1[j] - p[j];
                var v = p2[j] - p1[j] - r;
                rr += r * r;
                vv += v * v;
            }

            var alpha = vv > 0 ? Math.Min(-1, -Math.Sqrt(rr / vv)) : -1;
            var inside = true;
            for (var j = 0; j <= Bins && inside; j++)
            {
                var r = p1[j] - p[j];
                var v = p2[j] - p1[j] - r;
                jumped[j] = p[j] - (2 * alpha * r) + (alpha * alpha * v);
                inside = jumped[j] >= 0 && double.IsFinite(jumped[j]);
            }

            // A plain step from the jump (or from p2) keeps the iterate self-consistent.
            steps++;
            var change = em.Apply(inside ? jumped : p2, p);
            if (change < Tolerance)
            {
                break;
            }
        }

        return p;
    }

    // One plain self-consistency step: each cell gets its expected share of every observation that could have landed
    // in it, plus its prior. Returns the largest change of any cell.
    private sealed class EmStep(Cells cells, double[] prior, double denominator)
    {
        private readonly double[] _prefix = new double[Bins + 2];
        private readonly double[] _share = new double[Bins + 2];

        public double Apply(double[] p, double[] next)
        {
            var (from, to, weight, prefix, share) = (cells.From, cells.To, cells.Weight, _prefix, _share);
            prefix[0] = 0;
            for (var j = 0; j <= Bins; j++)
            {
                prefix[j + 1] = prefix[j] + p[j];
            }

            Array.Clear(share);
            for (var i = 0; i < from.Length; i++)
            {
                var inside = prefix[to[i] + 1] - prefix[from[i]];
                if (inside > 0)
                {
                    var c = weight[i] / inside;
                    share[from[i]] += c;
                    share[to[i] + 1] -= c;
                }
            }

            var run = 0.0;
            var change = 0.0;
            for (var j = 0; j <= Bins; j++)
            {
                run += share[j];
                var value = ((p[j] * run) + prior[j]) / denominator;
                change = Math.Max(change, Math.Abs(value - p[j]));
                next[j] = value;
            }

            return change;
        }
    }

    // A Gaussian kernel in log time: mass at t spreads with standard deviation width · local · t (at least half a bin).
    // The last cell (beyond the grid) stays where it is. The kernel's weights at whole-bin offsets d, e^(-d²/2s²) = a^(d²)
    // with a = e^(-1/2s²), follow from one exp by the recurrence a^((d+1)²) = a^(d²) · a^(2d+1): one exp per bin, not
    // one per bin pair (the exps were a quarter of an estimate's cost).
    internal static double[] Smooth(double[] p, double h, double width, double[]? local)
    {
        var n = p.Length - 1;
        var smoothed = new double[p.Length];
        smoothed[n] = p[n];
        var reach = 0;
        for (var j = 0; j < n; j++)
        {
            reach = p[j] > 0 ? Math.Max(reach, Reach(j)) : reach;
        }

        // kernel[reach + d] is the weight at offset d, −reach ≤ d ≤ reach, so a bin's spread is one contiguous run.
        var kernel = new double[(2 * reach) + 1];
        for (var j = 0; j < n; j++)
        {
            if (p[j] <= 0)
            {
                continue;
            }

            var s = Width(j);
            var r = Reach(j);
            var a = Math.Exp(-0.5 / (s * s));
            var step = a;
            kernel[reach] = 1;
            for (var d = 1; d <= r; d++)
            {
                kernel[reach + d] = kernel[reach - d] = kernel[reach + d - 1] * step;
                step *= a * a;
            }

            var lo = Math.Max(0, j - r);
            var length = Math.Min(n - 1, j + r) - lo + 1;
            var weights = kernel.AsSpan(reach + lo - j, length);
            var norm = 0.0;
            foreach (var weight in weights)
            {
                norm += weight;
            }

            AddScaled(smoothed.AsSpan(lo, length), weights, p[j] / norm);
        }

        return smoothed;

        // The kernel's standard deviation at bin j, in bins, and how far it reaches (3 of them).
        double Width(int j) => Math.Max(width * (local?[j] ?? 1) * (j + 0.5), 0.5);
        int Reach(int j) => (int)Math.Ceiling(3 * Width(j));
    }

    // target[i] += scale · source[i], element by element (the same sums, rounded the same way, as the scalar loop).
    private static void AddScaled(Span<double> target, ReadOnlySpan<double> source, double scale)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var factor = new Vector<double>(scale);
            for (; i <= target.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                (new Vector<double>(target[i..]) + (factor * new Vector<double>(source[i..]))).CopyTo(target[i..]);
            }
        }

        for (; i < target.Length; i++)
        {
            target[i] += scale * source[i];
        }
    }

    // The share of a t^-3 tail starting at h that lies beyond t (1 at t = h, 0 at infinity).
    private static double TailBeyond(double t, double h) => double.IsPositiveInfinity(t) ? 0 : (h / t) * (h / t);

    // The observations as grid cells: observation i covers bins From[i]..To[i].
    private sealed class Cells(int count)
    {
        public int Count { get; } = count;

        public int[] From { get; } = new int[count];

        public int[] To { get; } = new int[count];

        public double[] Weight { get; } = new double[count];

        public void Set(int i, CompletionObservation o, double h, double weight)
        {
            Weight[i] = weight;
            if (o.IsCensored)
            {
                From[i] = Math.Clamp((int)(o.Lower / h), 0, Bins);
                To[i] = Bins;
            }
            else if (o.Upper - o.Lower < 1e-9)
            {
                From[i] = To[i] = Math.Clamp((int)(o.Upper / h), 0, Bins);
            }
            else
            {
                // Bins (jh, (j+1)h] that meet (Lower, Upper].
                From[i] = Math.Clamp((int)(o.Lower / h), 0, Bins);
                To[i] = Math.Clamp((int)Math.Ceiling(o.Upper / h) - 1, From[i], Bins);
            }
        }

        // A poll's time at the service is known only to within a round trip and the timer's lateness, so the "same" poll
        // of different jobs lands a little apart. Left as they are, those near-equal bounds make slivers: between the
        // earliest "still running" and the earliest "done" at the first poll lies a sliver that satisfies both kinds of
        // wait, and the maximum-likelihood estimate piles there the mass of every job that finished before its first
        // poll (the plan then keeps its first poll late, and never learns otherwise). Bounds closer than a share of the
        // typical gap between polls cannot be two polls of one plan, nor can bounds closer than the measured timing
        // noise of polls be told apart: they are read as one bound (the most used of them). The start stays put.
        public void MergeNearBounds(double noiseBins)
        {
            var gaps = new List<int>();
            for (var i = 0; i < Count; i++)
            {
                if (From[i] > 0 && To[i] < Bins && To[i] > From[i])
                {
                    gaps.Add(To[i] + 1 - From[i]);
                }
            }

            if (gaps.Count == 0)
            {
                return;
            }

            gaps.Sort();
            var tolerance = Math.Max(1, Math.Max((int)(SameBoundShare * gaps[gaps.Count / 2]), (int)Math.Ceiling(noiseBins)));

            var use = new double[Bins + 2];
            for (var i = 0; i < Count; i++)
            {
                use[From[i]] += Weight[i];
                if (To[i] < Bins)
                {
                    use[To[i] + 1] += Weight[i];
                }
            }

            var representative = new int[Bins + 2];
            for (var j = 0; j < representative.Length; j++)
            {
                representative[j] = j;
            }

            for (var start = 1; start <= Bins; start++)
            {
                if (use[start] <= 0)
                {
                    continue;
                }

                var end = start;
                var best = start;
                for (var j = start + 1; j <= Math.Min(Bins, start + tolerance); j++)
                {
                    if (use[j] > 0)
                    {
                        end = j;
                        best = use[j] > use[best] ? j : best;
                    }
                }

                for (var j = start; j <= end; j++)
                {
                    representative[j] = best;
                }

                start = end;
            }

            for (var i = 0; i < Count; i++)
            {
                var from = representative[From[i]];
                var to = To[i] < Bins ? representative[To[i] + 1] - 1 : Bins;
                From[i] = from;
                To[i] = Math.Max(from, to);
            }
        }

        // Kish's effective sample size of the weights: (Σw)² / Σw².
        public double EffectiveCount()
        {
            double sum = 0, squares = 0;
            foreach (var w in Weight)
            {
                sum += w;
                squares += w * w;
            }

            return squares > 0 ? sum * sum / squares : 0;
        }
    }
}
