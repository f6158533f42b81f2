namespace NanoBanana.Batch;

/// <summary>A batch's progress, reported after every job that ends and every change of concurrency.</summary>
public sealed record BatchProgress
{
    /// <summary>Jobs read from the source so far.</summary>
    public int Seen { get; init; }

    /// <summary>Jobs that completed in this run.</summary>
    public int Completed { get; init; }

    /// <summary>Jobs the journal already had as completed.</summary>
    public int AlreadyCompleted { get; init; }

    /// <summary>Jobs that failed.</summary>
    public int Failed { get; init; }

    /// <summary>Jobs skipped for the budget, or left unknown or pending.</summary>
    public int NotDone { get; init; }

    /// <summary>Jobs submitted or waited on right now.</summary>
    public int InFlight { get; init; }

    /// <summary>The concurrency the batch allows itself now (lowered by 429s, raised again by acceptances).</summary>
    public int Concurrency { get; init; }

    /// <summary>The catalog price of the jobs accepted in this run.</summary>
    public decimal SpentUsd { get; init; }

    /// <summary>Submits answered 429 so far (each sent again later; none was accepted).</summary>
    public int RateLimited { get; init; }
}
