namespace NanoBanana.Polling;

/// <summary>Decides when to poll next. Implementations must be thread-safe: one instance serves every job.</summary>
public interface IPollSchedule
{
    /// <summary>The delay before the next poll.</summary>
    TimeSpan GetNextDelay(in PollScheduleContext context);

    /// <summary>
    /// Whether the delay is meant as the time until the next poll reaches the service, so the poller sends it half a
    /// round trip earlier (the job's last poll's; before its first poll, the client's typical one). False (the default)
    /// sleeps the delay as given, like a hand-written loop.
    /// </summary>
    bool CompensatesRoundTrip => false;
}
