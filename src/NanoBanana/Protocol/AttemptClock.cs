namespace NanoBanana.Protocol;

/// <summary>
/// When the last attempt of one request was sent. The resilience handler marks every attempt, so a poll whose answer
/// came after transport retries is timed by the attempt that answered, not by the retries' waits. Attempts run one after
/// another; the owner reads the mark after the request completed.
/// </summary>
internal sealed class AttemptClock(TimeProvider time)
{
    /// <summary>The timestamp (<see cref="TimeProvider.GetTimestamp"/> of this clock) of the last attempt's send; 0 before any.</summary>
    public long LastSent { get; private set; }

    /// <summary>An attempt is being sent now.</summary>
    public void Mark() => LastSent = time.GetTimestamp();
}
