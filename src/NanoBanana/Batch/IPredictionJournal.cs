namespace NanoBanana.Batch;

/// <summary>
/// A durable record of a batch's jobs, written before and after every step that costs money: the intent (and the
/// budget reservation) before the submit, the prediction id the moment it is accepted, then the outcome. A re-run
/// reads it to skip finished jobs, re-attach to accepted ones, and hold back those whose submit outcome is unknown.
/// Workers claim jobs under leases, so several processes can share one journal and take over a dead worker's jobs.
/// Implementations must make each call atomic (the budget check and the reservation in one transaction).
/// </summary>
public interface IPredictionJournal
{
    /// <summary>Asks for a job: takes it under a lease when it is the worker's to do (see <see cref="JournalClaim"/>).</summary>
    /// <param name="key">The job's key.</param>
    /// <param name="workerId">The worker.</param>
    /// <param name="lease">How long the claim holds unless renewed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What to do, and the job's entry as it was found (null when new).</returns>
    ValueTask<(JournalClaim Claim, JournalEntry? Entry)> ClaimAsync(string key, string workerId, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the intent to submit and reserves <paramref name="reserveUsd"/>, unless that would take the charges of
    /// this batch above <paramref name="batchCapUsd"/> or those of <paramref name="day"/> (all batches in the store)
    /// above <paramref name="dailyCapUsd"/>. Check and reservation are one atomic step.
    /// </summary>
    /// <returns>False when a cap would be crossed (nothing is written).</returns>
    ValueTask<bool> BeginSubmitAsync(string key, string workerId, decimal reserveUsd, decimal? batchCapUsd, decimal? dailyCapUsd, DateOnly day, CancellationToken cancellationToken = default);

    /// <summary>Records the prediction id and model the service accepted, and reconciles the charge to <paramref name="costUsd"/>.</summary>
    ValueTask AcceptedAsync(string key, string predictionId, string modelId, decimal costUsd, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a prediction the service reported for the job on its own (a webhook delivery that names the job, see
    /// <see cref="BatchWebhookReceiver"/>). Only a job whose submit outcome is unknown (<see cref="JournalState.Submitting"/>)
    /// changes: it becomes <see cref="JournalState.Accepted"/> with this id and keeps its reserved charge, so a re-run
    /// resumes it instead of holding it back. Any other state is left as it is.
    /// </summary>
    /// <returns>Whether the entry changed; null when the journal has no entry for <paramref name="key"/>.</returns>
    ValueTask<bool?> RecordDeliveredAsync(string key, string predictionId, CancellationToken cancellationToken = default);

    /// <summary>The submit surely was not accepted (a 429, a refusal before sending): the reservation is released and the job is claimed again.</summary>
    ValueTask ReleaseAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Records the job as completed, with the saved image's path.</summary>
    ValueTask CompletedAsync(string key, string? outputPath, CancellationToken cancellationToken = default);

    /// <summary>Records the job as failed; <paramref name="billed"/> false releases its charge.</summary>
    ValueTask FailedAsync(string key, string error, bool billed, CancellationToken cancellationToken = default);

    /// <summary>Records the job as skipped for the budget (a later run may take it again).</summary>
    ValueTask SkippedAsync(string key, string reason, CancellationToken cancellationToken = default);

    /// <summary>Extends every live claim of <paramref name="workerId"/> by <paramref name="lease"/> from now.</summary>
    ValueTask RenewLeasesAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Every entry of this batch.</summary>
    ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(CancellationToken cancellationToken = default);
}
