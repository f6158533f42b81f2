namespace NanoBanana.Batch;

/// <summary>
/// A journal whose store can also keep the account's limits for every worker that shares it (the PostgreSQL
/// journal does, in the same database). A batch with <see cref="BatchOptions.Limits"/> on such a journal asks it
/// before each submit, on top of its own in-process limits.
/// </summary>
public interface ISharedAccountGate
{
    /// <summary>
    /// Enters a submit if the account allows it now: fewer than <see cref="AccountLimits.ConcurrentTasks"/> tasks in
    /// flight across all workers, and fewer than <see cref="AccountLimits.ImagesPerWindow"/> submits counted in the
    /// window (a submit counts until a window after its exchange ends).
    /// </summary>
    /// <returns>A ticket to pass to <see cref="LeaveSubmitAsync"/>, or null and how long to wait before asking again.</returns>
    ValueTask<(long? Ticket, TimeSpan RetryAfter)> TryEnterSubmitAsync(string workerId, AccountLimits limits, CancellationToken cancellationToken = default);

    /// <summary>The submit exchange of <paramref name="ticket"/> ended (accepted or not).</summary>
    ValueTask LeaveSubmitAsync(long ticket, CancellationToken cancellationToken = default);
}
