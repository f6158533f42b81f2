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

    /// <summary>The entry after a submit's intent and reservation.</summary>
    public static JournalEntry Begin(JournalEntry current, string workerId, decimal reserveUsd, DateOnly day) =>
        current with { State = JournalState.Submitting, WorkerId = workerId, ChargeUsd = reserveUsd, Day = day, Error = null };
}
