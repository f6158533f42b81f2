namespace NanoBanana.Batch;

/// <summary>How one job of a batch ended.</summary>
public enum BatchOutcome
{
    /// <summary>Completed in this run; the image was fetched (and saved when an output folder was given).</summary>
    Completed,

    /// <summary>Finished in an earlier run, according to the journal; nothing was sent.</summary>
    AlreadyCompleted,

    /// <summary>Failed: refused, invalid, failed on the service, or its output could not be fetched.</summary>
    Failed,

    /// <summary>Not submitted: its estimate would have crossed the batch or daily budget.</summary>
    SkippedOverBudget,

    /// <summary>
    /// A submit may have reached the service (an earlier run died, or the connection dropped) and was not repeated.
    /// Re-run with <see cref="BatchOptions.ResubmitUnknown"/> to send it again, at the risk of paying twice.
    /// </summary>
    OutcomeUnknown,

    /// <summary>
    /// Accepted, but the wait ended (deadline or cancellation), or the prediction completed without an output that could
    /// be read (its image may exist); a re-run resumes it by its prediction id.
    /// </summary>
    Pending,

    /// <summary>
    /// Not submitted, or refused before it was accepted, and nothing billed: the service refused the account (a bad or
    /// revoked key, no balance: 401, 402 or 403), after which the batch sends no more jobs, or the service could not take
    /// the job (unavailable, 503, or unreachable; every model so when the job allows a fallback). Nothing in it is the
    /// job's fault, so it is not recorded as failed: a re-run sends it.
    /// </summary>
    NotSent,
}
