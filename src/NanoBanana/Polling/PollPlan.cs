namespace NanoBanana.Polling;

/// <summary>
/// A precomputed poll schedule: for every grid point, when to poll next. Looking up a delay is O(1) and allocates
/// nothing. Immutable.
/// </summary>
internal sealed class PollPlan
{
    private readonly int[] _next;
    private readonly double _h;
    private readonly double _tailGap;
    private readonly double _min;
    private readonly double _max;

    public PollPlan(int[] next, double binWidth, double tailGap, double min, double max, double expectedPolls, double expectedLag)
    {
        _next = next;
        _h = binWidth;
        _tailGap = tailGap;
        _min = min;
        _max = max;
        ExpectedPolls = expectedPolls;
        ExpectedLag = expectedLag;
    }

    /// <summary>Expected polls per job under the distribution the plan was made for.</summary>
    public double ExpectedPolls { get; }

    /// <summary>Expected detection lag (seconds) under that distribution.</summary>
    public double ExpectedLag { get; }

    /// <summary>The end of the planned range; later, gaps grow with the overshoot.</summary>
    public double GridEnd => (_next.Length - 1) * _h;

    /// <summary>The planned poll times from the submit on (for tests and the benchmark).</summary>
    public IEnumerable<double> PollTimes()
    {
        for (var i = _next[0]; i < _next.Length - 1; i = _next[i])
        {
            yield return i * _h;
        }
    }

    /// <summary>
    /// The plan followed exactly (every poll on time) over known completion times: the mean detection lag and the mean
    /// polls per job (for tests and the benchmark).
    /// </summary>
    public (double Lag, double Polls) Replay(IReadOnlyCollection<double> completions)
    {
        double lag = 0, polls = 0;
        foreach (var t in completions)
        {
            var at = 0.0;
            while (at < t)
            {
                at += Delay(at);
                polls++;
            }

            lag += at - t;
        }

        return completions.Count == 0 ? (0, 0) : (lag / completions.Count, polls / completions.Count);
    }

    /// <summary>The delay before the next poll when the job is still running <paramref name="elapsed"/> seconds after its submit.</summary>
    public double Delay(double elapsed)
    {
        var end = GridEnd;
        double delay;
        if (elapsed >= end)
        {
            // Past everything planned: keep the tail gap at first, then back off in proportion to the overshoot.
            delay = _tailGap * (1 + ((elapsed - end) / Math.Max(end, 1e-3)));
        }
        else
        {
            // The nearest grid point, not the one below: polls land a little before or after their planned point (the
            // timer, the round trip), and rounding down would move every early one a whole bin back, so the rest of
            // the chain would start a bin early, poll after poll, and the plan would drift ever denser.
            var i = Math.Max(0, (int)((elapsed / _h) + 0.5));
            delay = (_next[i] * _h) - elapsed;
        }

        return Math.Clamp(double.IsFinite(delay) ? delay : _max, _min, _max);
    }
}
