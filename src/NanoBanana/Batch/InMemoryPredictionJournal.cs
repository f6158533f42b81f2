namespace NanoBanana.Batch;

/// <summary>
/// A journal in memory: re-runs within one process skip and resume, nothing survives the process. The default when
/// a batch is given no journal. Thread-safe.
/// </summary>
public sealed class InMemoryPredictionJournal : PredictionJournalBase
{
    private readonly Dictionary<string, JournalEntry> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates an empty journal.</summary>
    /// <param name="timeProvider">The clock for leases (default: the system clock).</param>
    public InMemoryPredictionJournal(TimeProvider? timeProvider = null) => _time = timeProvider ?? TimeProvider.System;

    /// <inheritdoc/>
    public override ValueTask<(JournalClaim Claim, JournalEntry? Entry)> ClaimAsync(string key, string workerId, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        lock (_entries)
        {
            var current = _entries.GetValueOrDefault(key);
            var (claim, write) = JournalRules.Claim(current, key, workerId, lease, _time.GetUtcNow());
            if (write is not null)
            {
                _entries[key] = write;
            }

            return ValueTask.FromResult((claim, current));
        }
    }

    /// <inheritdoc/>
    public override ValueTask<bool> BeginSubmitAsync(string key, string workerId, decimal reserveUsd, decimal? batchCapUsd, decimal? dailyCapUsd, DateOnly day, CancellationToken cancellationToken = default)
    {
        lock (_entries)
        {
            decimal batch = 0, daily = 0;
            foreach (var e in _entries.Values)
            {
                if (e.Key != key)
                {
                    batch += e.ChargeUsd;
                    daily += e.Day == day ? e.ChargeUsd : 0;
                }
            }

            if (!JournalRules.Fits(reserveUsd, batch, batchCapUsd, daily, dailyCapUsd))
            {
                return ValueTask.FromResult(false);
            }

            _entries[key] = JournalRules.Begin(Get(key), workerId, reserveUsd, day);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public override ValueTask RenewLeasesAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        lock (_entries)
        {
            var until = _time.GetUtcNow() + lease;
            foreach (var e in _entries.Values.Where(e => e.WorkerId == workerId && e.State is JournalState.Claimed or JournalState.Submitting or JournalState.Accepted).ToList())
            {
                _entries[e.Key] = e with { LeaseUntil = until };
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(CancellationToken cancellationToken = default)
    {
        lock (_entries)
        {
            return ValueTask.FromResult<IReadOnlyList<JournalEntry>>([.. _entries.Values]);
        }
    }

    private JournalEntry Get(string key) => _entries.TryGetValue(key, out var e) ? e : throw NotClaimed(key);

    /// <inheritdoc/>
    protected override ValueTask UpdateAsync(string key, Func<JournalEntry, JournalEntry> change, CancellationToken cancellationToken)
    {
        lock (_entries)
        {
            _entries[key] = change(Get(key));
        }

        return ValueTask.CompletedTask;
    }
}
