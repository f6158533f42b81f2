namespace NanoBanana.Polling;

/// <summary>
/// Notices when a service's completion times have moved away from what was learned, so the estimator can drop the
/// observations from before the change instead of waiting for recency weighting to fade them. Each completed wait is
/// scored by where its interval falls in the current estimate (its mid probability integral transform, uniform with
/// mean ½ while nothing changes); when the mean score of the last <see cref="Window"/> waits strays more than
/// <see cref="Threshold"/> standard errors from ½, the change point is placed by CUSUM and the caller keeps only the
/// observations after it. Not thread-safe: the caller holds its lock.
/// </summary>
internal sealed class ChangeDetector
{
    public const int Window = 16;

    // Standard errors. Four keeps false alarms on a steady service to about one in 16,000 waits.
    private const double Threshold = 4;

    // Observations the estimate must rest on before a change is looked for.
    private const int MinObservations = 2 * Window;

    private readonly double[] _scores = new double[Window];
    private int _count;
    private int _next;

    /// <summary>Scores one observation; returns how many of the newest <paramref name="total"/> observations to keep.</summary>
    public int Observe(CompletionObservation observation, CompletionTimeDistribution? estimate, int total)
    {
        if (estimate is null || observation.IsCensored || total < MinObservations)
        {
            return total;
        }

        _scores[_next] = (estimate.Cdf(observation.Lower) + estimate.Cdf(observation.Upper)) / 2;
        _next = (_next + 1) % Window;
        _count = Math.Min(_count + 1, Window);
        if (_count < Window)
        {
            return total;
        }

        var sum = 0.0;
        foreach (var u in _scores)
        {
            sum += u - 0.5;
        }

        var standardError = Math.Sqrt(Window / 12.0);
        if (Math.Abs(sum) <= Threshold * standardError)
        {
            return total;
        }

        // CUSUM: the change began where the tail sum of deviations, oldest first, is largest in the drift's direction.
        var best = 0;
        var bestSum = 0.0;
        var tail = 0.0;
        for (var i = Window - 1; i >= 0; i--)
        {
            tail += _scores[(_next + i) % Window] - 0.5;
            if (Math.Sign(tail) == Math.Sign(sum) && Math.Abs(tail) > bestSum)
            {
                bestSum = Math.Abs(tail);
                best = Window - i;
            }
        }

        _count = 0;
        return Math.Max(best, 4);
    }
}
