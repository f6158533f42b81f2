namespace NanoBanana.Batch;

/// <summary>One job's line in a <see cref="IPredictionJournal"/>.</summary>
public sealed record JournalEntry
{
    /// <summary>The job's key.</summary>
    public required string Key { get; init; }

    /// <summary>Its state.</summary>
    public required JournalState State { get; init; }

    /// <summary>The worker holding (or last holding) it.</summary>
    public string? WorkerId { get; init; }

    /// <summary>Until when that worker's claim holds; after it, another worker may take the job over.</summary>
    public DateTimeOffset LeaseUntil { get; init; }

    /// <summary>The prediction id, once accepted.</summary>
    public string? PredictionId { get; init; }

    /// <summary>The model id, once accepted.</summary>
    public string? ModelId { get; init; }

    /// <summary>
    /// What the job counts against the budgets: the estimate reserved while submitting, the accepted model's price
    /// once accepted, 0 when nothing was billed.
    /// </summary>
    public decimal ChargeUsd { get; init; }

    /// <summary>The UTC day the charge counts against.</summary>
    public DateOnly Day { get; init; }

    /// <summary>Where the image was saved.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Why it failed or was skipped.</summary>
    public string? Error { get; init; }

    /// <summary>Whether another worker holds a live claim on it at <paramref name="now"/>.</summary>
    public bool IsHeldByOther(string workerId, DateTimeOffset now) =>
        State is JournalState.Claimed or JournalState.Submitting or JournalState.Accepted
        && WorkerId is not null && WorkerId != workerId && LeaseUntil > now;
}
