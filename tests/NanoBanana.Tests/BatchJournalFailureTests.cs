using Microsoft.Extensions.Logging;
using NanoBanana.Batch;

namespace NanoBanana.Tests;

/// <summary>
/// What can fail around a batch job the service has accepted must not abandon it. A journal write that fails (a locked
/// file, a dropped connection) is tried again, and if it keeps failing the run still collects the job, with its id in
/// the result and in an error log line; an output folder that cannot be written, or a progress callback that throws,
/// leaves the id in the journal and the result. Real HTTP against the emulator; the failing journal is the in-memory
/// one behind a wrapper.
/// </summary>
public class BatchJournalFailureTests
{
    private static BatchJob Job(string key) => new(key, new ImageJob($"prompt {key}") { PinnedTier = ImageTier.NanoBanana });

    [Fact]
    public async Task A_write_that_fails_once_is_tried_again_and_the_journal_ends_complete()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var journal = new FailingJournal(new InMemoryPredictionJournal()) { AcceptedFailures = 1, CompletedFailures = 1 };
        var results = await Run(client, journal, "a", "b");

        Assert.All(results, r => Assert.Equal((BatchOutcome.Completed, (string?)null), (r.Outcome, r.Error)));
        Assert.All(await journal.Inner.ReadAsync(), e => Assert.Equal(JournalState.Completed, e.State));
        Assert.Equal(2, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_retried_write_waits_on_real_time_even_when_the_batch_runs_on_a_fake_clock()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var journal = new FailingJournal(new InMemoryPredictionJournal()) { AcceptedFailures = 1 };
        var results = new List<BatchItemResult>();
        var run = Task.Run(async () =>
        {
            await foreach (var r in client.RunBatchAsync([Job("a")], new BatchOptions { Journal = journal, TimeProvider = new ManualTimeProvider() }))
            {
                results.Add(r);
            }
        });

        await run.WaitAsync(TimeSpan.FromSeconds(60)); // a clock that never moves must not stall the retry
        Assert.Equal(BatchOutcome.Completed, Assert.Single(results).Outcome);
        Assert.Equal(JournalState.Completed, Assert.Single(await journal.Inner.ReadAsync()).State);
    }

    [Fact]
    public async Task A_journal_that_cannot_record_an_accepted_job_does_not_lose_it()
    {
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        var journal = new FailingJournal(new InMemoryPredictionJournal()) { AcceptedFailures = int.MaxValue, CompletedFailures = int.MaxValue };
        using var folder = new TempFolder("nb-journal-");
        var result = Assert.Single(await RunInto(folder.FullName, client, journal, "sku-1"));

        // The job the service accepted was still waited for and saved; the result names its id and the failure.
        var id = Assert.Single(emulator.Jobs).Id;
        Assert.Equal(BatchOutcome.Completed, result.Outcome);
        Assert.Equal(id, result.PredictionId);
        Assert.True(File.Exists(result.OutputPath));
        Assert.Contains($"the journal could not record that prediction {Diagnostics.SafeText.Value(id)} was accepted (disk full)", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.Equal(3, journal.AcceptedCalls); // tried three times

        var errors = logs.Entries.Where(e => e.Level == LogLevel.Error).Select(e => e.Message).ToList();
        Assert.Contains(errors, m => m.Contains("Batch job sku-1", StringComparison.Ordinal) && m.Contains($"prediction {Diagnostics.SafeText.Value(id)} was accepted", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains($"prediction {Diagnostics.SafeText.Value(id)} completed", StringComparison.Ordinal));

        // The journal kept its older state: a re-run holds the job back rather than pay for it again.
        Assert.Equal(JournalState.Submitting, Assert.Single(await journal.Inner.ReadAsync()).State);
    }

    [Fact]
    public async Task An_output_folder_that_cannot_be_written_keeps_the_id_and_a_rerun_collects_the_image()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var journal = new InMemoryPredictionJournal();
        using var root = new TempFolder("nb-batch-unwritable-");
        var blocker = Path.Combine(root.FullName, "a-file");
        await File.WriteAllTextAsync(blocker, "not a folder");
        var first = Assert.Single(await RunInto(Path.Combine(blocker, "out"), client, journal, "sku-1"));

        Assert.Equal(BatchOutcome.Pending, first.Outcome);
        Assert.Equal(emulator.Jobs.Single().Id, first.PredictionId);
        Assert.StartsWith("the image could not be saved", first.Error, StringComparison.Ordinal);
        Assert.Equal(JournalState.Accepted, Assert.Single(await journal.ReadAsync()).State);

        // Run again with a folder it can write: collected by id, not paid again.
        var second = Assert.Single(await RunInto(Path.Combine(root.FullName, "out"), client, journal, "sku-1"));
        Assert.Equal(BatchOutcome.Completed, second.Outcome);
        Assert.True(File.Exists(second.OutputPath));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_shared_gate_that_cannot_record_a_submits_end_does_not_lose_the_accepted_job()
    {
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        var journal = new FailingJournal(new InMemoryPredictionJournal()) { LeaveFails = true };
        var results = new List<BatchItemResult>();
        await foreach (var r in client.RunBatchAsync(new[] { "a", "b" }.Select(Job), new BatchOptions { Journal = journal, Limits = new AccountLimits(10, 100) }))
        {
            results.Add(r);
        }

        Assert.All(results, r => Assert.Equal((BatchOutcome.Completed, (string?)null), (r.Outcome, r.Error)));
        Assert.All(await journal.Inner.ReadAsync(), e => Assert.Equal(JournalState.Completed, e.State));
        Assert.Equal(2, emulator.AcceptedSubmits);
        Assert.Equal(2, logs.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("could not record the end of a submit", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_progress_callback_that_throws_does_not_end_accepted_jobs()
    {
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        var journal = new InMemoryPredictionJournal();
        var results = new List<BatchItemResult>();
        var progress = new ThrowingProgress();
        await foreach (var r in client.RunBatchAsync(new[] { "a", "b", "c" }.Select(Job), new BatchOptions { Journal = journal }, progress))
        {
            results.Add(r);
        }

        Assert.All(results, r => Assert.Equal((BatchOutcome.Completed, (string?)null), (r.Outcome, r.Error)));
        Assert.Equal(3, emulator.AcceptedSubmits);
        Assert.True(progress.Calls > 3);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("batch progress callback threw", StringComparison.Ordinal));
    }

    private sealed class ThrowingProgress : IProgress<BatchProgress>
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        // Throws from the first report after a job was accepted (its cost counted) on.
        public void Report(BatchProgress value)
        {
            Interlocked.Increment(ref _calls);
            if (value.SpentUsd > 0)
            {
                throw new InvalidOperationException("a bug in the caller's reporting");
            }
        }
    }

    private static async Task<List<BatchItemResult>> RunInto(string? folder, INanoBananaClient client, IPredictionJournal journal, params string[] keys)
    {
        var results = new List<BatchItemResult>();
        await foreach (var r in client.RunBatchAsync(keys.Select(Job), new BatchOptions { Journal = journal, OutputDirectory = folder }))
        {
            results.Add(r);
        }

        return results;
    }

    private static Task<List<BatchItemResult>> Run(INanoBananaClient client, IPredictionJournal journal, params string[] keys) => RunInto(null, client, journal, keys);

    // Fails the first N acceptance and completion writes, as a store that is locked or unreachable would.
    private sealed class FailingJournal(InMemoryPredictionJournal inner) : IPredictionJournal, ISharedAccountGate
    {
        private long _tickets;
        private int _acceptedCalls;
        private int _completedCalls;

        public InMemoryPredictionJournal Inner => inner;

        public int AcceptedFailures { get; init; }

        public int CompletedFailures { get; init; }

        public int AcceptedCalls => Volatile.Read(ref _acceptedCalls);

        // As a shared gate: every submit may go, and recording its end fails when asked to.
        public bool LeaveFails { get; init; }

        public ValueTask<(long? Ticket, TimeSpan RetryAfter)> TryEnterSubmitAsync(string workerId, AccountLimits limits, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<(long?, TimeSpan)>((Interlocked.Increment(ref _tickets), TimeSpan.Zero));

        public ValueTask LeaveSubmitAsync(long ticket, CancellationToken cancellationToken = default) =>
            LeaveFails ? throw new IOException("database is locked") : ValueTask.CompletedTask;

        public ValueTask AcceptedAsync(string key, string predictionId, string modelId, decimal costUsd, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _acceptedCalls) <= AcceptedFailures ? throw new IOException("disk full") : inner.AcceptedAsync(key, predictionId, modelId, costUsd, cancellationToken);

        public ValueTask CompletedAsync(string key, string? outputPath, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _completedCalls) <= CompletedFailures ? throw new IOException("disk full") : inner.CompletedAsync(key, outputPath, cancellationToken);

        public ValueTask<(JournalClaim Claim, JournalEntry? Entry)> ClaimAsync(string key, string workerId, TimeSpan lease, CancellationToken cancellationToken = default) => inner.ClaimAsync(key, workerId, lease, cancellationToken);

        public ValueTask<bool> BeginSubmitAsync(string key, string workerId, decimal reserveUsd, decimal? batchCapUsd, decimal? dailyCapUsd, DateOnly day, CancellationToken cancellationToken = default) => inner.BeginSubmitAsync(key, workerId, reserveUsd, batchCapUsd, dailyCapUsd, day, cancellationToken);

        public ValueTask<bool?> RecordDeliveredAsync(string key, string predictionId, CancellationToken cancellationToken = default) => inner.RecordDeliveredAsync(key, predictionId, cancellationToken);

        public ValueTask ReleaseAsync(string key, CancellationToken cancellationToken = default) => inner.ReleaseAsync(key, cancellationToken);

        public ValueTask FailedAsync(string key, string error, bool billed, CancellationToken cancellationToken = default) => inner.FailedAsync(key, error, billed, cancellationToken);

        public ValueTask SkippedAsync(string key, string reason, CancellationToken cancellationToken = default) => inner.SkippedAsync(key, reason, cancellationToken);

        public ValueTask RenewLeasesAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken = default) => inner.RenewLeasesAsync(workerId, lease, cancellationToken);

        public ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(CancellationToken cancellationToken = default) => inner.ReadAsync(cancellationToken);
    }
}
