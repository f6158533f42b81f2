namespace NanoBanana.Polling;

/// <summary>
/// The default, model-aware schedule. It learns each model's completion-time distribution from what waits observed
/// (seeded by the catalog's typical range; see <see cref="LatencyStatistics"/>) and polls at the times that minimise
/// expected requests for the target mean detection lag (<see cref="PollingOptions.TargetMeanLag"/>), or minimise lag
/// within a poll budget (<see cref="PollingOptions.PollBudgetInterval"/>): optimal inspection times computed by a
/// dynamic program over a time grid, cached, and recomputed only when the estimate has moved. Each decision is a
/// table lookup. When most jobs are already done by the planned first poll and almost nothing has been seen below it,
/// a few jobs (at most 8 in 64) poll first at four fifths of it, so the estimate learns where below it jobs finish;
/// never in budget mode.
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

    /// <summary>True: the schedule plans when polls reach the service, so the poller subtracts the time a request takes to get there.</summary>
    public bool CompensatesRoundTrip => true;

    /// <inheritdoc />
    public TimeSpan GetNextDelay(in PollScheduleContext context)
    {
        var plan = _stats.GetPlan(context.Model, _options);
        var now = context.Elapsed.TotalSeconds;
        var last = context.LastPollReached.TotalSeconds;
        if (context.PollCount > 0 && last > 0 && last <= now)
        {
            // The plan is a chain of times at the service. The next one follows from where the last poll reached it;
            // looked up from now instead (half a round trip and the client's own work later), every poll would start
            // the rest of the chain that much later, and the plan would drift.
            return TimeSpan.FromSeconds(Math.Max(0, last + plan.Delay(last) - now));
        }

        if (context.PollCount == 0 && _stats.TakeFirstPollProbe(context.Model, _options, now) is var probe and > 0)
        {
            // Exploring below the plan's first poll (see FirstPollProbe); the plan takes over from the probe on.
            return TimeSpan.FromSeconds(probe - now);
        }

        return TimeSpan.FromSeconds(plan.Delay(now));
    }
}
