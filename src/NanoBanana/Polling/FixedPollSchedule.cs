namespace NanoBanana.Polling;

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
