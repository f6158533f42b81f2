namespace NanoBanana.Batch;

/// <summary>
/// The part every journal store shares: the transitions after a claim (accepted, released, completed, failed,
/// skipped), each an atomic read-change-write of one entry through <see cref="UpdateAsync"/>. A store implements the
/// claim, the budget reservation, lease renewal, reading, and that one update.
/// </summary>
public abstract class PredictionJournalBase : IPredictionJournal
{
    /// <inheritdoc/>
    public abstract ValueTask<(JournalClaim Claim, JournalEntry? Entry)> ClaimAsync(string key, string workerId, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract ValueTask<bool> BeginSubmitAsync(string key, string workerId, decimal reserveUsd, decimal? batchCapUsd, decimal? dailyCapUsd, DateOnly day, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract ValueTask RenewLeasesAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public abstract ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public ValueTask AcceptedAsync(string key, string predictionId, string modelId, decimal costUsd, CancellationToken cancellationToken = default) =>
        UpdateAsync(key, e => e with { State = JournalState.Accepted, PredictionId = predictionId, ModelId = modelId, ChargeUsd = costUsd }, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask<bool?> RecordDeliveredAsync(string key, string predictionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(predictionId);
        var changed = false;
        try
        {
            await UpdateAsync(
                key,
                e =>
                {
                    changed = e.State == JournalState.Submitting;
                    return changed ? e with { State = JournalState.Accepted, PredictionId = predictionId } : e;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (MissingEntryException)
        {
            return null;
        }

        return changed;
    }

    /// <inheritdoc/>
    public ValueTask ReleaseAsync(string key, CancellationToken cancellationToken = default) =>
        UpdateAsync(key, e => e with { State = JournalState.Claimed, ChargeUsd = 0 }, cancellationToken);

    /// <inheritdoc/>
    public ValueTask CompletedAsync(string key, string? outputPath, CancellationToken cancellationToken = default) =>
        UpdateAsync(key, e => e with { State = JournalState.Completed, OutputPath = outputPath, Error = null }, cancellationToken);

    /// <inheritdoc/>
    public ValueTask FailedAsync(string key, string error, bool billed, CancellationToken cancellationToken = default) =>
        UpdateAsync(key, e => e with { State = JournalState.Failed, Error = error, ChargeUsd = billed ? e.ChargeUsd : 0 }, cancellationToken);

    /// <inheritdoc/>
    public ValueTask SkippedAsync(string key, string reason, CancellationToken cancellationToken = default) =>
        UpdateAsync(key, e => e with { State = JournalState.Skipped, Error = reason, ChargeUsd = 0 }, cancellationToken);

    /// <summary>Reads the entry of <paramref name="key"/> (which must exist: claimed first), applies <paramref name="change"/> and writes it back, atomically.</summary>
    /// <exception cref="InvalidOperationException">The journal has no entry for the key (throw <see cref="NotClaimed"/>).</exception>
    protected abstract ValueTask UpdateAsync(string key, Func<JournalEntry, JournalEntry> change, CancellationToken cancellationToken);

    /// <summary>The error for an update of a key that was never claimed.</summary>
    protected static InvalidOperationException NotClaimed(string key) => new MissingEntryException(key);

    // The store's "no such entry", told apart from other InvalidOperationExceptions (a store's own failures).
    private sealed class MissingEntryException(string key) : InvalidOperationException($"The journal has no entry for key '{key}': claim it first.");
}
