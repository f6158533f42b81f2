using System.Collections.Concurrent;
using NanoBanana.Catalog;
using NanoBanana.Routing;

namespace NanoBanana.Polling;

/// <summary>
/// Live submit-to-completion times per model: a sliding window per model, thread-safe. Feeds the adaptive poll
/// schedule and the tier policy's Speed priority (<see cref="ILatencyEstimator"/>).
/// </summary>
public sealed class LatencyStatistics : ILatencyEstimator
{
    private const int PriorPoints = 32;
    private readonly ConcurrentDictionary<string, ModelWindow> _windows = new(StringComparer.OrdinalIgnoreCase);
    private readonly int _window;
    private readonly int _minLive;

    /// <summary>Creates empty statistics.</summary>
    public LatencyStatistics(int window = 1000, int minLiveSamples = 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(minLiveSamples, 1);
        _window = window;
        _minLive = Math.Min(minLiveSamples, window);
    }

    /// <summary>Live samples needed for <see cref="TryGetExpectedLatency"/> to answer. Default 5.</summary>
    public int MinSamplesForEstimate { get; init; } = 5;

    /// <summary>Records one completion time for a model.</summary>
    public void Record(ImageModel model, TimeSpan latency)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (latency <= TimeSpan.Zero)
        {
            return;
        }

        _windows.GetOrAdd(model.Id, _ => new ModelWindow(_window)).Add(latency.TotalSeconds);
    }

    /// <summary>How many live samples exist for a model.</summary>
    public int Count(ImageModel model) => _windows.TryGetValue(model.Id, out var w) ? w.Count : 0;

    /// <inheritdoc />
    public bool TryGetExpectedLatency(ImageModel model, out TimeSpan latency)
    {
        latency = default;
        if (!_windows.TryGetValue(model.Id, out var w) || w.Count < MinSamplesForEstimate)
        {
            return false;
        }

        latency = TimeSpan.FromSeconds(w.Median());
        return true;
    }

    internal LatencyDistribution GetDistribution(ImageModel model)
    {
        if (_windows.TryGetValue(model.Id, out var w))
        {
            return w.Distribution(model, _minLive);
        }

        return LatencyDistribution.FromPrior(model);
    }

    internal static double[] PriorSamples(ImageModel model)
    {
        var lo = model.TypicalLatencyMin.TotalSeconds;
        var hi = Math.Max(model.TypicalLatencyMax.TotalSeconds, lo + 0.001);
        var points = new double[PriorPoints];
        for (var i = 0; i < PriorPoints; i++)
        {
            points[i] = lo + ((hi - lo) * (i + 0.5) / PriorPoints);
        }

        return points;
    }

    private sealed class ModelWindow(int capacity)
    {
        private readonly double[] _ring = new double[capacity];
        private readonly object _gate = new();
        private int _count;
        private int _next;
        private int _version;
        private LatencyDistribution? _cached;
        private int _cachedVersion = -1;
        private ImageModel? _cachedModel;
        private double _median;
        private int _medianVersion = -1;

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _count;
                }
            }
        }

        public void Add(double seconds)
        {
            lock (_gate)
            {
                _ring[_next] = seconds;
                _next = (_next + 1) % _ring.Length;
                _count = Math.Min(_count + 1, _ring.Length);
                _version++;
            }
        }

        // The Speed priority asks for this on every Route: sort only when about 3% of the window is new.
        public double Median()
        {
            lock (_gate)
            {
                if (_medianVersion >= 0 && (_version - _medianVersion) < Math.Max(1, _count / 32))
                {
                    return _median;
                }

                var copy = _ring.AsSpan(0, _count).ToArray();
                Array.Sort(copy);
                _median = copy.Length % 2 == 1 ? copy[copy.Length / 2] : (copy[(copy.Length / 2) - 1] + copy[copy.Length / 2]) / 2;
                _medianVersion = _version;
                return _median;
            }
        }

        public LatencyDistribution Distribution(ImageModel model, int minLive)
        {
            lock (_gate)
            {
                // Rebuilding sorts the window: do it when about 3% of the samples are new, not on every completion.
                if (_cached is not null && ReferenceEquals(_cachedModel, model) && (_version - _cachedVersion) < Math.Max(1, _count / 32))
                {
                    return _cached;
                }

                var live = _ring.AsSpan(0, _count);
                var samples = _count >= minLive ? live.ToArray() : [.. live, .. PriorSamples(model)];
                _cached = new LatencyDistribution(samples);
                _cachedVersion = _version;
                _cachedModel = model;
                return _cached;
            }
        }
    }
}

/// <summary>An empirical completion-time distribution (seconds), immutable.</summary>
internal sealed class LatencyDistribution
{
    private readonly double[] _x; // sorted
    private readonly int _k;      // neighbours used for the local density estimate
    private readonly ConcurrentDictionary<(double, double, double), double> _scales = new();

    public LatencyDistribution(double[] samples)
    {
        _x = samples;
        Array.Sort(_x);
        var n = _x.Length;
        _k = Math.Clamp((int)Math.Sqrt(n), 3, 16);
    }

    public static LatencyDistribution FromPrior(ImageModel model) => new(LatencyStatistics.PriorSamples(model));

    public double Earliest => _x[0];

    public double Latest => _x[^1];

    public double Quantile(double q) => _x[(int)Math.Clamp(q * (_x.Length - 1), 0, _x.Length - 1)];

    /// <summary>
    /// The schedule: the delay before the next poll at elapsed time <paramref name="t"/> for scale <paramref name="c"/>,
    /// clamped to [<paramref name="min"/>, <paramref name="max"/>]. Past the latest sample the gap starts at
    /// <paramref name="tailGap"/> and grows with the overshoot.
    /// </summary>
    public double Delay(double t, double c, double tailGap, double min, double max)
    {
        double delay;
        if (t < Earliest)
        {
            // Nothing completes before the earliest observed time: wait until then, plus half a gap.
            delay = Earliest - t + (0.5 * c * Shape(Earliest));
        }
        else if (t >= Latest)
        {
            // Past everything seen so far: keep the target lag at first, then back off in proportion to the overshoot,
            // so a stuck job does not cost a poll a second for its whole deadline.
            delay = tailGap * (1 + ((t - Latest) / Math.Max(Latest, 1e-3)));
        }
        else
        {
            delay = c * Shape(t);
        }

        return Math.Clamp(double.IsFinite(delay) ? delay : max, min, max);
    }

    /// <summary>
    /// The scale c whose schedule gives a mean detection lag of <paramref name="target"/> over this distribution,
    /// found by replaying the schedule over (up to 256 of) the samples and bisecting on c. Cached per setting.
    /// </summary>
    public double SolveScale(double target, double min, double max) =>
        _scales.GetOrAdd((target, min, max), key => Bisect(c => Replay(c, 2 * key.Item1, key.Item2, key.Item3).Lag > key.Item1).Below);

    /// <summary>
    /// The smallest scale c (least lag) whose schedule sends no more polls per job than a fixed loop at
    /// <paramref name="interval"/> would over this distribution, less a 15% margin (live jobs see timing overheads the replay does not). Cached per setting.
    /// </summary>
    public double SolveScaleForBudget(double interval, double min, double max) =>
        _scales.GetOrAdd((-interval, min, max), key =>
        {
            double budget = 0;
            var n = 0;
            for (var i = 0; i < _x.Length; i += ReplayStep)
            {
                budget += Math.Ceiling(_x[i] / interval);
                n++;
            }

            budget = 0.85 * budget / n;
            return Bisect(c => Replay(c, interval, key.Item2, key.Item3).Polls <= budget).Above;
        });

    private int ReplayStep => Math.Max(1, _x.Length / 256);

    // Geometric bisection on c in [1e-4, 1e3] for the point where the predicate flips from false to true: the last
    // value below it and the first above it.
    private static (double Below, double Above) Bisect(Func<double, bool> predicate)
    {
        double lo = 1e-4, hi = 1e3;
        for (var iteration = 0; iteration < 24; iteration++)
        {
            var c = Math.Sqrt(lo * hi);
            if (predicate(c))
            {
                hi = c;
            }
            else
            {
                lo = c;
            }
        }

        return (lo, hi);
    }

    // Replays the schedule for scale c over the samples: mean detection lag and mean polls per job.
    private (double Lag, double Polls) Replay(double c, double tailGap, double min, double max)
    {
        double lag = 0, polls = 0;
        var count = 0;
        for (var i = 0; i < _x.Length; i += ReplayStep)
        {
            var t = 0.0;
            for (var p = 0; t < _x[i] && p < 10_000; p++)
            {
                t += Delay(t, c, tailGap, min, max);
                polls++;
            }

            lag += t - _x[i];
            count++;
        }

        return (lag / count, polls / count);
    }

    /// <summary>P(T &gt; t).</summary>
    public double Survival(double t) => (double)(_x.Length - UpperBound(t)) / _x.Length;

    /// <summary>
    /// sqrt(S(t) / f(t)) = 1/sqrt(hazard). The density is a k-nearest-neighbour estimate: the window reaches the k-th
    /// sample after t, so it widens by itself in a sparse tail. +inf past the last sample.
    /// </summary>
    public double Shape(double t)
    {
        var i = UpperBound(t);
        var above = _x.Length - i;
        if (above == 0)
        {
            return double.PositiveInfinity;
        }

        var k = Math.Min(_k, above);
        var window = Math.Max(_x[i + k - 1] - t, 1e-3);
        var density = k / (_x.Length * window);
        var survival = (double)above / _x.Length;
        return Math.Sqrt(survival / density);
    }

    private int UpperBound(double t)
    {
        int lo = 0, hi = _x.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_x[mid] <= t)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
