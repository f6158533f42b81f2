using NanoBanana.Catalog;
using NanoBanana.Protocol;

namespace NanoBanana.Polling;

/// <summary>What a schedule knows when it picks the next poll.</summary>
/// <param name="Model">The model running the prediction.</param>
/// <param name="Elapsed">Time since the submit was sent (estimated for a resumed prediction).</param>
/// <param name="PollCount">Polls sent so far for this prediction.</param>
/// <param name="LastStatus">The last status seen.</param>
public readonly record struct PollScheduleContext(ImageModel Model, TimeSpan Elapsed, int PollCount, PredictionStatus LastStatus);

/// <summary>Decides when to poll next. Implementations must be thread-safe: one instance serves every job.</summary>
public interface IPollSchedule
{
    /// <summary>The delay before the next poll.</summary>
    TimeSpan GetNextDelay(in PollScheduleContext context);

    /// <summary>
    /// Whether the delay is meant as the time until the next poll reaches the service, so the poller subtracts the
    /// last poll's round trip. False (the default) sleeps the delay as given, like a hand-written loop.
    /// </summary>
    bool CompensatesRoundTrip => false;
}

/// <summary>Polls at a fixed interval (what most hand-written loops do).</summary>
public sealed class FixedPollSchedule : IPollSchedule
{
    /// <summary>Creates the schedule.</summary>
    public FixedPollSchedule(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        Interval = interval;
    }

    /// <summary>The interval.</summary>
    public TimeSpan Interval { get; }

    /// <inheritdoc />
    public TimeSpan GetNextDelay(in PollScheduleContext context) => Interval;
}

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
    public AdaptivePollSchedule(LatencyStatistics statistics, PollingOptions options)
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
