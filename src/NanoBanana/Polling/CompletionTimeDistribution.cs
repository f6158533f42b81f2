namespace NanoBanana.Polling;

/// <summary>
/// A completion-time distribution on a uniform time grid: <see cref="Bins"/> bins of <see cref="BinWidth"/> seconds
/// from 0, plus one last cell for "later than the grid". Immutable.
/// </summary>
internal sealed class CompletionTimeDistribution
{
    private readonly double[] _cdf; // _cdf[i] = P(T <= i * BinWidth), i = 0..Bins

    public CompletionTimeDistribution(double binWidth, double[] mass)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(binWidth, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(mass.Length, 2);
        BinWidth = binWidth;
        Mass = mass;
        Bins = mass.Length - 1;
        _cdf = new double[Bins + 1];
        var total = 0.0;
        foreach (var m in mass)
        {
            total += m;
        }

        var run = 0.0;
        for (var i = 0; i < Bins; i++)
        {
            run += mass[i] / total;
            _cdf[i + 1] = Math.Min(run, 1);
        }

        for (var i = 0; i < mass.Length; i++)
        {
            mass[i] /= total;
        }
    }

    /// <summary>The bin width in seconds.</summary>
    public double BinWidth { get; }

    /// <summary>The number of bins on the grid (the mass array has one more cell: beyond the grid).</summary>
    public int Bins { get; }

    /// <summary>The end of the grid in seconds.</summary>
    public double GridEnd => Bins * BinWidth;

    /// <summary>The probability of each bin; the last cell is the mass beyond the grid. Sums to 1.</summary>
    public double[] Mass { get; }

    /// <summary>P(T &lt;= t), linear within a bin.</summary>
    public double Cdf(double t)
    {
        if (t <= 0)
        {
            return 0;
        }

        var x = t / BinWidth;
        if (x >= Bins)
        {
            return _cdf[Bins];
        }

        var i = (int)x;
        return _cdf[i] + ((_cdf[i + 1] - _cdf[i]) * (x - i));
    }

    /// <summary>The smallest t with P(T &lt;= t) &gt;= q (interpolated within a bin); the grid end when q lies beyond it.</summary>
    public double Quantile(double q)
    {
        int lo = 0, hi = Bins;
        if (_cdf[Bins] < q)
        {
            return GridEnd;
        }

        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_cdf[mid + 1] >= q)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        var width = _cdf[lo + 1] - _cdf[lo];
        return (lo + (width <= 0 ? 1 : (q - _cdf[lo]) / width)) * BinWidth;
    }

    /// <summary>The largest difference between two CDFs (Kolmogorov–Smirnov distance), checked at 128 points.</summary>
    public static double Distance(CompletionTimeDistribution a, CompletionTimeDistribution b)
    {
        var end = Math.Max(a.GridEnd, b.GridEnd);
        var worst = 0.0;
        for (var i = 1; i <= 128; i++)
        {
            var t = end * i / 128;
            worst = Math.Max(worst, Math.Abs(a.Cdf(t) - b.Cdf(t)));
        }

        return worst;
    }

    /// <summary>The empirical distribution of exact completion times on a grid (for tests and the benchmark's optimum).</summary>
    public static CompletionTimeDistribution FromSamples(IReadOnlyCollection<double> seconds, double binWidth, int bins)
    {
        var mass = new double[bins + 1];
        foreach (var s in seconds)
        {
            mass[Math.Clamp((int)(s / binWidth), 0, bins)]++;
        }

        return new CompletionTimeDistribution(binWidth, mass);
    }
}
