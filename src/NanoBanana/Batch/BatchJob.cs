namespace NanoBanana.Batch;

/// <summary>One job of a batch, under a stable key of the caller's choosing (a SKU, a file name, a row id).</summary>
/// <param name="Key">
/// Identifies the job across runs: the journal records it, a re-run skips it once done and re-attaches to its
/// prediction once accepted. Unique within the batch; at most 200 characters.
/// </param>
/// <param name="Job">The job.</param>
public sealed record BatchJob(string Key, ImageJob Job);
