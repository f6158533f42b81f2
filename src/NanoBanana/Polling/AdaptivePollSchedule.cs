namespace NanoBanana.Polling;

/// <summary>
/// The default, model-aware schedule. It learns each model's completion-time distribution from what waits observed
/// (seeded by the catalog's typical range; see <see cref="LatencyStatistics"/>) and polls at the times that minimise
/// expected requests for the target mean detection lag (<see cref="PollingOptions.TargetMeanLag"/>), or minimise lag
/// within a poll budget (<see cref="PollingOptions.PollBudgetInterval"/>): optimal inspection times computed by a
/// dynamic program over a time grid, cached, and recomputed only when the estimate has moved. Each decision is a
/// table lookup.
/// </summary>
public sealed class AdaptivePollSchedule : IPollSchedule
{
    private readonly LatencyStatistics _stats;
    private readonly PollingOptions _options;

    /// <summary>Creates the schedule over live statistics.</summary>
    internal AdaptivePollSchedule(LatencyStatistics statistics, PollingOptions options)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(options);
        _stats = statistics;
        _options = options;
    }

    /// <summary>The options in use.</summary>
    public PollingOptions Options => _options;

    /// <summary>True: the schedule plans when polls reach the service, so the poller subtracts the round trip.</summary>
    public bool CompensatesRoundTrip => true;

    /// <inheritdoc />
    public TimeSpan GetNextDelay(in PollScheduleContext context) =>
        TimeSpan.FromSeconds(_stats.GetPlan(context.Model, _options).Delay(context.Elapsed.TotalSeconds));
}
