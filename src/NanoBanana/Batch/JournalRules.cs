namespace NanoBanana.Batch;

/// <summary>
/// The journal's rules, shared by every store so they behave alike: what a claim finds and takes, and whether a
/// reservation fits the budgets. Stores call these inside their own transaction.
/// </summary>
public static class JournalRules
{
    /// <summary>What claiming <paramref name="key"/> means given its current entry, and the entry to write (null: write nothing).</summary>
    public static (JournalClaim Claim, JournalEntry? Write) Claim(JournalEntry? current, string key, string workerId, TimeSpan lease, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        if (current is null)
        {
            return (JournalClaim.Submit, new JournalEntry { Key = key, State = JournalState.Claimed, WorkerId = workerId, LeaseUntil = now + lease });
        }

        if (current.IsHeldByOther(workerId, now))
        {
            return (JournalClaim.Busy, null);
        }

        var taken = current with { WorkerId = workerId, LeaseUntil = now + lease };
        return current.State switch
        {
            JournalState.Completed => (JournalClaim.Done, null),
            JournalState.Failed => (JournalClaim.Failed, null),
            JournalState.Accepted => (JournalClaim.Resume, taken),
            JournalState.Submitting => (JournalClaim.Unknown, taken),
            JournalState.Skipped => (JournalClaim.Submit, taken with { State = JournalState.Claimed, Error = null, ChargeUsd = 0 }),
            _ => (JournalClaim.Submit, taken with { State = JournalState.Claimed, ChargeUsd = 0 }),
        };
    }

    /// <summary>
    /// Whether reserving <paramref name="reserveUsd"/> keeps the batch's charges (other jobs than this one) within
    /// <paramref name="batchCapUsd"/> and the day's within <paramref name="dailyCapUsd"/>.
    /// </summary>
    public static bool Fits(decimal reserveUsd, decimal batchChargesUsd, decimal? batchCapUsd, decimal dayChargesUsd, decimal? dailyCapUsd) =>
        (batchCapUsd is not { } batch || batchChargesUsd + reserveUsd <= batch)
        && (dailyCapUsd is not { } daily || dayChargesUsd + reserveUsd <= daily);

    /// <summary>
    /// Whether a shared store's account gate (<see cref="ISharedAccountGate"/>) lets a submit in now, from what the
    /// store counts under its lock: <paramref name="counted"/> submits still in the window (ended less than a window
    /// ago, or not ended), <paramref name="onTheWire"/> of them not ended and started less than a window ago, the
    /// earliest end among them, and <paramref name="inFlight"/> jobs submitting or accepted under a live lease.
    /// </summary>
    /// <returns>Null when the submit may enter; otherwise how long to wait before asking again (at least 10 ms).</returns>
    public static TimeSpan? AccountGateWait(AccountLimits limits, long counted, long onTheWire, DateTimeOffset? earliestEnd, long inFlight, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(limits);

        // Jobs on the wire may also be in flight under a lease (counted twice while both), which errs on the safe side.
        if (counted < limits.ImagesPerWindow && inFlight + onTheWire < limits.ConcurrentTasks)
        {
            return null;
        }

        var wait = counted >= limits.ImagesPerWindow && earliestEnd is { } end ? end + limits.Window - now : TimeSpan.FromMilliseconds(100);
        return wait < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : wait;
    }

    /// <summary>The entry after a submit's intent and reservation.</summary>
    public static JournalEntry Begin(JournalEntry current, string workerId, decimal reserveUsd, DateOnly day) =>
        current with { State = JournalState.Submitting, WorkerId = workerId, ChargeUsd = reserveUsd, Day = day, Error = null };
}
