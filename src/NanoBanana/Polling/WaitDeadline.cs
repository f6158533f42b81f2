namespace NanoBanana.Polling;

/// <summary>
/// The deadline of a poll loop that several waits share: the latest of theirs. It only moves later (a wait that joins
/// afterwards brings a later one), and the loop reads it afresh at every step. Each wait still ends at its own deadline.
/// </summary>
internal sealed class WaitDeadline(long timestamp)
{
    private long _timestamp = timestamp;

    /// <summary>The TimeProvider timestamp at which the loop gives up.</summary>
    public long Timestamp => Volatile.Read(ref _timestamp);

    /// <summary>Moves the deadline to <paramref name="timestamp"/> when that is later; an earlier one changes nothing.</summary>
    public void ExtendTo(long timestamp)
    {
        var current = Volatile.Read(ref _timestamp);
        while (timestamp > current)
        {
            var seen = Interlocked.CompareExchange(ref _timestamp, timestamp, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
