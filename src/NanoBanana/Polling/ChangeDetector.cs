namespace NanoBanana.Polling;

/// <summary>
/// Notices when a service's completion times have moved away from what was learned, so the estimator can drop the
/// observations from before the change instead of waiting for recency weighting to fade them. It judges poll answers,
/// not completions: a job still running at <c>since</c> is found done at the next poll with the probability p the
/// current estimate gives, so each answer is a trial with mean p and variance p(1 − p), whatever other jobs do. (A
/// completion's place in the estimate is not: when many jobs start together their first completions are their shortest,
/// which a check of completions read as a faster service, and dropped what it had learned.) When the answers of the
/// newest <see cref="MinAnswers"/> or more stray from their predictions by more than <see cref="Threshold"/> standard
/// deviations (read from the Chernoff bound for trials of unequal odds, not the normal approximation) and by half the predicted count of jobs done, the change is placed where the strayed run of answers began, and the caller keeps only the observations
/// recorded since. Not thread-safe: the caller holds its lock.
/// </summary>
internal sealed class ChangeDetector
{
    /// <summary>The newest answers looked at.</summary>
    public const int Window = 256;

    /// <summary>The fewest answers a change is declared on.</summary>
    public const int MinAnswers = 8;

    // Standard deviations, read from the Chernoff bound: a smoothed estimate is a little off everywhere, which over
    // hundreds of answers adds up (4 gave false alarms in the simulation; 5 read as a z-score, over HTTP on Nano Banana
    // Pro). Predictions are kept within [PMin, 1 − PMin], so one answer weighs little on its own.
    private const double Threshold = 5;
    private const double PMin = 0.02;

    // How far the jobs' finishing rate over a run must be from the predicted one, as a share of it.
    private const double MinEffect = 0.5;

    // The least variance a run of answers must carry before its deviation is judged (about 4 answers at p = ½).
    private const double MinVariance = 0.5;

    // Observations the estimate must rest on before its predictions are judged at all.
    private const int MinObservations = 32;

    private readonly double[] _residual = new double[Window];
    private readonly double[] _variance = new double[Window];
    private readonly double[] _predicted = new double[Window];
    private readonly long[] _recorded = new long[Window];
    private int _count;
    private int _next;

    /// <summary>
    /// Judges one poll answer: the job was running <paramref name="since"/> seconds after its start and was found
    /// <paramref name="done"/> or not <paramref name="at"/> seconds after it. <paramref name="recorded"/> counts every
    /// observation recorded so far. Returns the value of that count from which observations are to be kept (the change
    /// began after them), or -1 when nothing changed.
    /// </summary>
    public long Judge(double since, double at, bool done, CompletionTimeDistribution? estimate, int total, long recorded)
    {
        if (estimate is null || total < MinObservations || !(at > since))
        {
            return -1;
        }

        var running = 1 - estimate.Cdf(since);
        if (running <= 1e-9)
        {
            return -1;
        }

        var p = Math.Clamp((estimate.Cdf(at) - estimate.Cdf(since)) / running, PMin, 1 - PMin);
        _residual[_next] = (done ? 1 : 0) - p;
        _predicted[_next] = p;
        _variance[_next] = p * (1 - p);
        _recorded[_next] = recorded;
        _next = (_next + 1) % Window;
        _count = Math.Min(_count + 1, Window);

        // The newest run of answers that strays most, in standard deviations, among those whose jobs finished at a rate
        // at least half again, or at most half, the predicted one (a smoothed estimate is a little off everywhere, and
        // over hundreds of answers a little is many standard deviations; a changed service is off by far more).
        double sum = 0, variance = 0, expected = 0, best = 0;
        var bestLength = 0;
        for (var length = 1; length <= _count; length++)
        {
            var i = (_next - length + Window) % Window;
            sum += _residual[i];
            variance += _variance[i];
            expected += _predicted[i];
            if (length >= MinAnswers && variance >= MinVariance && Math.Abs(sum) >= MinEffect * expected)
            {
                // The z-score screens; a run it flags is judged by the Chernoff bound (below), which the normal
                // approximation overstates for a few answers at long odds.
                if (Math.Abs(sum) / Math.Sqrt(variance) > Threshold)
                {
                    var z = Chernoff(length, expected + sum);
                    if (z > best)
                    {
                        best = z;
                        bestLength = length;
                    }
                }
            }
        }

        if (best <= Threshold)
        {
            return -1;
        }

        var from = _recorded[(_next - bestLength + Window) % Window];
        _count = 0;
        return from;
    }

    // How far the newest `length` answers, `seen` of them "done", are from their predictions, in standard deviations
    // read from the Chernoff bound for a sum of independent trials with unequal odds: √(2·I), where
    // I = sup over θ of θ·seen − Σ ln(1 − pᵢ + pᵢ·e^θ) bounds −ln P(a sum at least as far out). Where the normal
    // approximation holds this is about the z-score; where it does not, it does not overstate. Over HTTP, 5 of 8 answers
    // "done" at odds of about 9% each scored 5.4 as a z-score (a false change on a steady service); this reads 3.8.
    // Eight "still running" at 90% odds of "done" read 6.1 (8.5 as a z-score).
    private double Chernoff(int length, double seen)
    {
        // Σ ln(1 − pᵢ + pᵢ·e^θ) over the run, and the run's expected count of "done" under that tilt.
        double Log(double theta, out double mean)
        {
            var tilt = Math.Exp(theta);
            double sum = 0;
            mean = 0;
            for (var k = 1; k <= length; k++)
            {
                var p = _predicted[(_next - k + Window) % Window];
                var tilted = 1 - p + (p * tilt);
                sum += Math.Log(tilted);
                mean += p * tilt / tilted;
            }

            return sum;
        }

        // Σ −ln(qᵢ) over the run, qᵢ the odds of the outcome all answers had (θ → ∓∞).
        double AllAlike(bool done)
        {
            double sum = 0;
            for (var k = 1; k <= length; k++)
            {
                var p = _predicted[(_next - k + Window) % Window];
                sum -= Math.Log(done ? p : 1 - p);
            }

            return sum;
        }

        double rate;
        if (seen <= 0.5 || seen >= length - 0.5)
        {
            rate = AllAlike(done: seen > 0.5);
        }
        else
        {
            // The tilt at which the expected count is `seen`: the mean is increasing in θ, so bisect.
            double lo = -60, hi = 60;
            for (var iteration = 0; iteration < 60; iteration++)
            {
                var mid = (lo + hi) / 2;
                Log(mid, out var mean);
                if (mean < seen)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid;
                }
            }

            var theta = (lo + hi) / 2;
            rate = (theta * seen) - Log(theta, out _);
        }

        return Math.Sqrt(2 * Math.Max(0, rate));
    }
}
