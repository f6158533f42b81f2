namespace NanoBanana.Batch;

/// <summary>Batches on any <see cref="INanoBananaClient"/>.</summary>
public static class NanoBananaBatchExtensions
{
    /// <summary>
    /// Runs a batch: each job is claimed in the journal, kept inside the account's limits and the budgets, submitted
    /// (or resumed by its prediction id when an earlier run got that far), waited on, saved, and reported as it ends.
    /// Results stream in the order jobs finish; a failed job never stops the batch. Re-running the same batch with
    /// the same journal skips what is done, resumes what was accepted, and does not resend a job whose submit may
    /// have reached the service (see <see cref="BatchOptions.ResubmitUnknown"/>). In a batch a job does not fall back to
    /// another model unless its <see cref="ImageJob.AllowFallback"/> is set: a 429 slows the batch instead.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="jobs">The jobs, read as slots free up.</param>
    /// <param name="options">Limits, budgets, journal, output folder; defaults when null.</param>
    /// <param name="progress">Progress after every job that ends.</param>
    /// <param name="cancellationToken">Stops reading jobs and waiting; accepted jobs stay in the journal for a re-run.</param>
    /// <exception cref="ArgumentException">An option is out of range (before anything is sent).</exception>
    public static IAsyncEnumerable<BatchItemResult> RunBatchAsync(this INanoBananaClient client, IAsyncEnumerable<BatchJob> jobs, BatchOptions? options = null, IProgress<BatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(jobs);
        return new BatchRunner(client, options ?? new BatchOptions(), progress).RunAsync(jobs, cancellationToken);
    }

    /// <summary>As <see cref="RunBatchAsync(INanoBananaClient, IAsyncEnumerable{BatchJob}, BatchOptions?, IProgress{BatchProgress}?, CancellationToken)"/>, for jobs in memory.</summary>
    public static IAsyncEnumerable<BatchItemResult> RunBatchAsync(this INanoBananaClient client, IEnumerable<BatchJob> jobs, BatchOptions? options = null, IProgress<BatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return client.RunBatchAsync(AsAsync(jobs), options, progress, cancellationToken);
    }

    private static async IAsyncEnumerable<BatchJob> AsAsync(IEnumerable<BatchJob> jobs)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var job in jobs)
        {
            yield return job;
        }
    }
}
