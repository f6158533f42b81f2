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
    public LatencyStatistics(int window = 200, int minLiveSamples = 16)
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

        public double Median()
        {
            double[] copy;
            lock (_gate)
            {
                copy = _ring.AsSpan(0, _count).ToArray();
            }

            Array.Sort(copy);
            return copy.Length % 2 == 1 ? copy[copy.Length / 2] : (copy[(copy.Length / 2) - 1] + copy[copy.Length / 2]) / 2;
        }

        public LatencyDistribution Distribution(ImageModel model, int minLive)
        {
            lock (_gate)
            {
                if (_cached is not null && _cachedVersion == _version && ReferenceEquals(_cachedModel, model))
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
    private readonly double _bandwidth;

    public LatencyDistribution(double[] samples)
    {
        _x = samples;
        Array.Sort(_x);
        var n = _x.Length;
        var spread = _x[(int)(0.9 * (n - 1))] - _x[(int)(0.1 * (n - 1))];
        _bandwidth = Math.Max(Math.Max(spread / 6, (_x[^1] - _x[0]) / 50), 1e-3);
        double sum = 0;
        var counted = 0;
        foreach (var xi in _x)
        {
            var g = Shape(xi - (_bandwidth / 2));
            if (double.IsFinite(g))
            {
                sum += g;
                counted++;
            }
        }

        MeanShape = counted == 0 ? 1 : Math.Max(sum / counted, 1e-6);
    }

    public static LatencyDistribution FromPrior(ImageModel model) => new(LatencyStatistics.PriorSamples(model));

    public double Earliest => _x[0];

    /// <summary>The mean of <see cref="Shape"/> over the distribution: scales gaps to the target lag.</summary>
    public double MeanShape { get; }

    /// <summary>P(T &gt; t).</summary>
    public double Survival(double t) => (double)(_x.Length - UpperBound(t)) / _x.Length;

    /// <summary>sqrt(S(t) / f(t)) = 1/sqrt(hazard); +inf where no completion falls within one bandwidth.</summary>
    public double Shape(double t)
    {
        var above = _x.Length - UpperBound(t);
        if (above == 0)
        {
            return double.PositiveInfinity;
        }

        var inWindow = UpperBound(t + _bandwidth) - UpperBound(t);
        if (inWindow == 0)
        {
            return double.PositiveInfinity;
        }

        var survival = (double)above / _x.Length;
        var density = inWindow / (_x.Length * _bandwidth);
        return Math.Sqrt(survival / density);
    }

    public double NextSampleAfter(double t)
    {
        var i = UpperBound(t);
        return i < _x.Length ? _x[i] : t;
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
