namespace NanoBanana.Polling;

/// <summary>
/// A log-normal distribution fitted by maximum likelihood to interval-censored and right-censored completion times
/// (EM on log time: each observation contributes the moments of the current normal truncated to its interval). The
/// estimator uses it only where the observations cannot tell a shape: inside a stretch of time that no observation's
/// bound splits, most importantly before the earliest poll, where every job that finished early says only "before
/// the first poll". Immutable.
/// </summary>
internal readonly record struct LogNormalFit(double Mu, double Sigma)
{
    private const int MaxIterations = 60;
    private const double Tolerance = 1e-6;
    private const double MinSigma = 0.02;
    private const double MaxSigma = 3;

    /// <summary>P(T &lt;= t).</summary>
    public double Cdf(double t) => t <= 0 ? 0 : double.IsPositiveInfinity(t) ? 1 : Normal.Cdf((Math.Log(t) - Mu) / Sigma);

    /// <summary>
    /// The maximum-likelihood fit, started from <paramref name="mu"/> and <paramref name="sigma"/> (for instance the
    /// nonparametric estimate's log-time moments). Observations with no finite information are skipped.
    /// </summary>
    public static LogNormalFit Fit(ReadOnlySpan<CompletionObservation> observations, ReadOnlySpan<double> weights, double mu, double sigma)
    {
        sigma = Math.Clamp(sigma, MinSigma, MaxSigma);
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            double total = 0, first = 0, second = 0;
            for (var i = 0; i < observations.Length; i++)
            {
                var o = observations[i];
                var a = o.Lower > 0 ? Math.Log(o.Lower) : double.NegativeInfinity;
                var b = o.IsCensored ? double.PositiveInfinity : Math.Log(o.Upper);
                var (m1, m2) = TruncatedMoments(a, b, mu, sigma);
                total += weights[i];
                first += weights[i] * m1;
                second += weights[i] * m2;
            }

            if (!(total > 0))
            {
                break;
            }

            var nextMu = first / total;
            var nextSigma = Math.Clamp(Math.Sqrt(Math.Max(0, (second / total) - (nextMu * nextMu))), MinSigma, MaxSigma);
            var change = Math.Abs(nextMu - mu) + Math.Abs(nextSigma - sigma);
            mu = nextMu;
            sigma = nextSigma;
            if (change < Tolerance)
            {
                break;
            }
        }

        return new LogNormalFit(mu, sigma);
    }

    // E[X] and E[X²] of N(mu, sigma²) restricted to (a, b]; a point when a == b.
    private static (double First, double Second) TruncatedMoments(double a, double b, double mu, double sigma)
    {
        if (b - a < 1e-12)
        {
            return (b, b * b);
        }

        var alpha = (a - mu) / sigma;
        var beta = (b - mu) / sigma;
        var z = Normal.Cdf(beta) - Normal.Cdf(alpha);
        if (z < 1e-12)
        {
            // The interval lies far out in a tail of the current fit: its nearest end stands for it.
            var x = double.IsNegativeInfinity(a) ? b : double.IsPositiveInfinity(b) ? a : beta <= 0 ? b : a;
            return (x, x * x);
        }

        var pa = double.IsInfinity(alpha) ? 0 : Normal.Pdf(alpha);
        var pb = double.IsInfinity(beta) ? 0 : Normal.Pdf(beta);
        var ta = double.IsInfinity(alpha) ? 0 : alpha * pa;
        var tb = double.IsInfinity(beta) ? 0 : beta * pb;
        var shift = (pa - pb) / z;
        var mean = mu + (sigma * shift);
        var variance = sigma * sigma * Math.Max(0, 1 + ((ta - tb) / z) - (shift * shift));
        return (mean, variance + (mean * mean));
    }
}

/// <summary>The standard normal distribution's density and CDF (the CDF through a rational erfc approximation, relative error about 1e-7).</summary>
internal static class Normal
{
    private const double InverseSqrt2Pi = 0.3989422804014327;

    /// <summary>φ(x).</summary>
    public static double Pdf(double x) => InverseSqrt2Pi * Math.Exp(-0.5 * x * x);

    /// <summary>Φ(x).</summary>
    public static double Cdf(double x) => double.IsNegativeInfinity(x) ? 0 : double.IsPositiveInfinity(x) ? 1 : 0.5 * Erfc(-x / Math.Sqrt(2));

    // The complementary error function by the Chebyshev-fitted exponential form (Press et al., Numerical Recipes).
    private static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        var r = t * Math.Exp(-(z * z) - 1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418
            + (t * (-0.18628806 + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587
            + (t * (-0.82215223 + (t * 0.17087277))))))))))))))))));
        return x >= 0 ? r : 2 - r;
    }
}
