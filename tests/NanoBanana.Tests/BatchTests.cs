using NanoBanana.Batch;
using NanoBanana.Emulator;

namespace NanoBanana.Tests;

/// <summary>Batches over real HTTP against the emulator: limits, 429s, budgets, the journal, restarts, take-over.</summary>
public class BatchTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60); // a liveness guard (a hang fails the test), never a speed claim

    private static BatchJob Job(string key, ImageTier tier = ImageTier.NanoBanana) => new(key, new ImageJob($"prompt {key}") { PinnedTier = tier });

    private static async Task<List<BatchItemResult>> RunAsync(INanoBananaClient client, IEnumerable<BatchJob> jobs, BatchOptions options, IProgress<BatchProgress>? progress = null, CancellationToken ct = default)
    {
        var results = new List<BatchItemResult>();
        await foreach (var r in client.RunBatchAsync(jobs, options, progress, ct))
        {
            results.Add(r);
        }

        return results;
    }

    [Fact]
    public async Task A_journaled_prediction_the_service_no_longer_knows_stays_pending_with_the_reason_and_is_not_resent()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Polling.MinInterval = TimeSpan.FromMilliseconds(10));
        var journal = new InMemoryPredictionJournal();
        var day = DateOnly.FromDateTime(DateTime.UtcNow);
        Assert.Equal(JournalClaim.Submit, (await journal.ClaimAsync("k", "earlier-run", TimeSpan.FromMilliseconds(1))).Claim);
        Assert.True(await journal.BeginSubmitAsync("k", "earlier-run", 0.039m, null, null, day));
        await journal.AcceptedAsync("k", "expired-7", NanoBanana.Catalog.ModelCatalog.Default[ImageTier.NanoBanana].Id, 0.039m); // a run days ago
        await Task.Delay(20); // that run's lease is over

        var result = Assert.Single(await RunAsync(client, [Job("k")], new BatchOptions { Journal = journal }));
        Assert.Equal(BatchOutcome.Pending, result.Outcome);
        Assert.Equal("expired-7", result.PredictionId);
        Assert.Contains("does not know prediction expired-7", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, emulator.Count("submit"));
        Assert.Equal(JournalState.Accepted, (await journal.ReadAsync()).Single().State);
    }

    [Fact]
    public async Task A_journaled_id_no_poll_can_reach_is_reported_pending_with_its_id_not_failed_without_it()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var journal = new InMemoryPredictionJournal();
        await journal.ClaimAsync("k", "earlier-run", TimeSpan.FromMilliseconds(1));
        await journal.BeginSubmitAsync("k", "earlier-run", 0.039m, null, null, DateOnly.FromDateTime(DateTime.UtcNow));
        await journal.AcceptedAsync("k", "..", "gemini-2.5-flash-image", 0.039m); // what a hostile service answered
        await Task.Delay(20);

        var result = Assert.Single(await RunAsync(client, [Job("k")], new BatchOptions { Journal = journal }));
        Assert.Equal(BatchOutcome.Pending, result.Outcome);
        Assert.Equal("..", result.PredictionId);
        Assert.Contains("cannot be a prediction id", result.Error, StringComparison.Ordinal);
        Assert.Empty(emulator.Requests);
        Assert.Equal(JournalState.Accepted, (await journal.ReadAsync()).Single().State);
    }

    [Fact]
    public async Task A_rerun_collects_a_prediction_whose_model_id_the_catalog_has_since_dropped()
    {
        // The README's lifecycle step: Pro moved to its stable id ahead of time, the successor cleared. The preview id a
        // journaled prediction was accepted on is no longer in the catalog, and the re-run marked that paid
        // prediction Failed ("Unknown model …"), without its id.
        await using var emulator = await Emu.StartAsync();
        using var before = Emu.Client(emulator);
        var accepted = await before.StartGenerationAsync(new ImageJob("a poster") { TypographyCritical = true });
        Assert.Equal("gemini-3-pro-image-preview", accepted.Model.Id);
        var journal = new InMemoryPredictionJournal();
        await journal.ClaimAsync("k", "earlier-run", TimeSpan.FromMilliseconds(1));
        await journal.BeginSubmitAsync("k", "earlier-run", 0.134m, null, null, DateOnly.FromDateTime(DateTime.UtcNow));
        await journal.AcceptedAsync("k", accepted.Id, accepted.Model.Id, 0.134m);
        await Task.Delay(20); // that run's lease is over

        var logs = new CapturingLoggerProvider();
        using var after = new NanoBananaClient(
            Emu.Options(emulator, o => o.Catalog.Models["NanoBananaPro"] = new() { Id = "gemini-3-pro-image", SuccessorId = "" }), null, logs);
        var result = Assert.Single(await RunAsync(after, [new BatchJob("k", new ImageJob("a poster") { TypographyCritical = true })], new BatchOptions { Journal = journal }));
        Assert.Equal(BatchOutcome.Completed, result.Outcome);
        Assert.Equal(accepted.Id, result.PredictionId);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.Contains(logs.Entries, e => e.Message.Contains("Model gemini-3-pro-image-preview is not in the catalog", StringComparison.Ordinal));

        // Resuming by hand works the same way, and the result names the model the prediction ran on.
        var resumed = await after.ResumeAsync(accepted.Id, "gemini-3-pro-image-preview");
        Assert.Equal("gemini-3-pro-image-preview", resumed.Model.Id);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task A_revoked_key_stops_the_batch_sending_and_a_rerun_with_a_working_key_sends_the_rest(int concurrency)
    {
        // A key revoked mid-batch used to fail every job left, one refused submit each, and the journal kept them as
        // failed, so a re-run with a working key skipped them all.
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        var journal = new InMemoryPredictionJournal();
        var jobs = Enumerable.Range(0, 12).Select(i => Job($"k{i}")).ToList();
        await RunAsync(client, jobs.Take(2), new BatchOptions { Journal = journal });

        emulator.Options.ApiKey = "sk-the-new-key-0000"; // the client's key is revoked
        var before = emulator.Count("submit");
        var results = await RunAsync(client, jobs, new BatchOptions { Journal = journal, MaxConcurrency = concurrency });

        Assert.Equal(2, results.Count(r => r.Outcome == BatchOutcome.AlreadyCompleted));
        Assert.Equal(10, results.Count(r => r.Outcome == BatchOutcome.NotSent));
        Assert.InRange(emulator.Count("submit") - before, 1, concurrency); // the refusals in flight when it came, no more
        Assert.All(results.Where(r => r.Outcome == BatchOutcome.NotSent), r => Assert.Contains("401", r.Error, StringComparison.Ordinal));
        Assert.Equal(2, emulator.AcceptedSubmits);
        var entries = (await journal.ReadAsync()).Where(e => e.Key is not ("k0" or "k1")).ToList();
        Assert.All(entries, e => Assert.Equal((JournalState.Claimed, 0m), (e.State, e.ChargeUsd))); // unsent, nothing reserved
        Assert.Single(logs.Entries, e => e.Message.Contains("the batch sends no more jobs", StringComparison.Ordinal));

        emulator.Options.ApiKey = Emu.Key; // a working key again
        var rerun = await RunAsync(client, jobs, new BatchOptions { Journal = journal, MaxConcurrency = concurrency });
        Assert.Equal(2, rerun.Count(r => r.Outcome == BatchOutcome.AlreadyCompleted));
        Assert.Equal(10, rerun.Count(r => r.Outcome == BatchOutcome.Completed));
        Assert.Equal(12, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task An_empty_balance_is_the_accounts_and_a_job_no_model_could_take_is_not_sent_rather_than_failed()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var journal = new InMemoryPredictionJournal();
        var jobs = Enumerable.Range(0, 4).Select(i => Job($"k{i}")).ToList();

        // Every model unavailable for the first job (one candidate: a batch allows no fallback unless the job does).
        emulator.EnqueueFault(FaultKind.Unavailable, FaultTarget.Submit);
        var first = await RunAsync(client, jobs.Take(2), new BatchOptions { Journal = journal, MaxConcurrency = 1 });
        Assert.Equal([BatchOutcome.NotSent, BatchOutcome.Completed], first.OrderBy(r => r.Key).Select(r => r.Outcome));

        // Then the balance runs out: GPT Proto answers 403 (there is no 402).
        emulator.EnqueueReply(new EmulatorReply(403, """{"error":{"message":"Insufficient balance","type":"403"}}""") { AcceptsJob = false }, FaultTarget.Submit);
        var before = emulator.Count("submit");
        var second = await RunAsync(client, jobs, new BatchOptions { Journal = journal, MaxConcurrency = 1 });
        Assert.Equal(1, emulator.Count("submit") - before);
        Assert.Equal(3, second.Count(r => r.Outcome == BatchOutcome.NotSent));
        Assert.Contains(second, r => r.Outcome == BatchOutcome.NotSent && r.Error!.Contains("Insufficient balance", StringComparison.Ordinal));

        var third = await RunAsync(client, jobs, new BatchOptions { Journal = journal, MaxConcurrency = 1 }); // topped up
        Assert.Equal(3, third.Count(r => r.Outcome == BatchOutcome.Completed));
        Assert.Equal(4, emulator.AcceptedSubmits);
        Assert.All(await journal.ReadAsync(), e => Assert.Equal(JournalState.Completed, e.State));
    }

    [Fact]
    public async Task A_job_completed_without_outputs_stays_pending_and_a_rerun_collects_outputs_listed_later()
    {
        // Paid and perhaps with an image: journaled as failed, no re-run would have asked for it again.
        await using var emulator = await Emu.StartAsync(o => o.LateOutputsAnswers = 5); // more than the 1 + 3 a wait sees
        using var client = Emu.Client(emulator);
        var journal = new InMemoryPredictionJournal();
        emulator.EnqueueFault(FaultKind.LateOutputs, FaultTarget.Submit);

        var first = Assert.Single(await RunAsync(client, [Job("k")], new BatchOptions { Journal = journal }));
        Assert.Equal(BatchOutcome.Pending, first.Outcome);
        Assert.Contains("completed without outputs", first.Error, StringComparison.Ordinal);
        Assert.Equal(JournalState.Accepted, Assert.Single(await journal.ReadAsync()).State);

        var again = Assert.Single(await RunAsync(client, [Job("k")], new BatchOptions { Journal = journal }));
        Assert.Equal((BatchOutcome.Completed, first.PredictionId), (again.Outcome, again.PredictionId));
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_caller_slower_than_the_batch_holds_it_back_so_finished_results_do_not_pile_up()
    {
        // Each result may carry its image in memory (inline outputs): a batch that ran on while its caller was busy with
        // one result kept every later one waiting in memory.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var gate = new object();
        var consumed = 0;
        var mostWaiting = 0;
        var progress = new SyncProgress<BatchProgress>(p =>
        {
            lock (gate)
            {
                mostWaiting = Math.Max(mostWaiting, p.Completed - consumed);
            }
        });
        var jobs = Enumerable.Range(0, 16).Select(i => new BatchJob($"k{i}", new ImageJob($"prompt {i}") { PinnedTier = ImageTier.NanoBanana, Base64Output = true }));
        await foreach (var result in client.RunBatchAsync(jobs, new BatchOptions { MaxConcurrency = 2 }, progress))
        {
            Assert.Equal(BatchOutcome.Completed, result.Outcome);
            await Task.Delay(100); // the caller's own work with each image
            lock (gate)
            {
                consumed++;
            }
        }

        Assert.Equal(16, consumed);
        Assert.Equal(16, emulator.AcceptedSubmits);
        Assert.InRange(mostWaiting, 1, (2 * 2) + 1); // queued (as many as the concurrency), held by jobs waiting to hand theirs over, the one in hand
    }

    [Fact]
    public async Task A_batch_whose_caller_is_busy_leaves_the_accounts_tasks_to_another_batch()
    {
        // Two batches on one account share its tasks. The jobs of one whose caller is busy wait to hand their results
        // over: they must not hold the account's tasks meanwhile, or the other batch waits on a caller it does not know.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var limits = new AccountLimits(2, 1000);
        var busy = new TaskCompletionSource();
        var stalled = new TaskCompletionSource();
        var progress = new SyncProgress<BatchProgress>(p =>
        {
            if (p.Completed >= 5) // 1 in the caller's hand, 2 queued, 2 jobs waiting to hand theirs over
            {
                stalled.TrySetResult();
            }
        });
        var first = Task.Run(async () =>
        {
            await foreach (var _ in client.RunBatchAsync(Enumerable.Range(0, 8).Select(i => Job($"a{i}")), new BatchOptions { Limits = limits, MaxConcurrency = 2 }, progress))
            {
                await busy.Task;
            }
        });
        await stalled.Task.WaitAsync(Guard);

        var second = await RunAsync(client, Enumerable.Range(0, 4).Select(i => Job($"b{i}")), new BatchOptions { Limits = limits }).WaitAsync(Guard);

        Assert.Equal(4, second.Count(r => r.Outcome == BatchOutcome.Completed));
        busy.SetResult();
        await first.WaitAsync(Guard);
        Assert.Equal(12, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Results_stream_per_job_and_a_bad_job_does_not_stop_the_batch()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        using var folder = new TempFolder("nb-batch-");
        var journal = new InMemoryPredictionJournal();
        var jobs = Enumerable.Range(1, 6).Select(i => Job($"sku/{i}")).ToList();
        jobs.Insert(2, new BatchJob("too-big", new ImageJob("x") { PinnedTier = ImageTier.NanoBanana, Size = ImageSize.FourK }));
        jobs.Add(Job("sku/1")); // a duplicate key
        var results = await RunAsync(client, jobs, new BatchOptions { Journal = journal, OutputDirectory = folder.FullName });

        Assert.Equal(8, results.Count);
        Assert.Equal(6, results.Count(r => r.Outcome == BatchOutcome.Completed));
        Assert.Contains(results, r => r.Key == "too-big" && r.Outcome == BatchOutcome.Failed && r.Error!.Contains("4K", StringComparison.Ordinal));
        Assert.Contains(results, r => r.Key == "sku/1" && r.Outcome == BatchOutcome.Failed && r.Error!.Contains("appears twice", StringComparison.Ordinal));
        Assert.Equal(6, emulator.AcceptedSubmits);
        foreach (var done in results.Where(r => r.Outcome == BatchOutcome.Completed))
        {
            Assert.True(File.Exists(done.OutputPath));
            Assert.StartsWith("sku_", Path.GetFileName(done.OutputPath), StringComparison.Ordinal);
            Assert.Equal(0.039m, done.CostUsd);
        }

        var entries = await journal.ReadAsync();
        Assert.Equal(6, entries.Count(e => e.State == JournalState.Completed && e.OutputPath is not null && e.PredictionId is not null));
        Assert.Contains(entries, e => e.Key == "too-big" && e.State == JournalState.Failed && e.ChargeUsd == 0);

        var report = Assert.Single(BatchSpendLine.Report(results));
        Assert.Equal(("gemini-2.5-flash-image", 6, 0.234m), (report.ModelId, report.Images, report.CostUsd));
    }

    [Fact]
    public async Task Keys_that_differ_only_by_case_are_refused_with_an_output_folder_before_anything_is_sent()
    {
        // On Windows and macOS "Cat.png" and "cat.png" are one file: the second image replaced the first, paid for.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        using var temp = new TempFolder("nb-batch-case-");
        var folder = new DirectoryInfo(temp.FullName);
        var jobs = new[] { Job("Cat"), Job("cat"), new BatchJob("CAT", new ImageJob("a cat") { OutputFormat = Protocol.OutputFormat.Jpeg }) };
        var results = await RunAsync(client, jobs, new BatchOptions { OutputDirectory = folder.FullName });
        var refused = Assert.Single(results, r => r.Outcome == BatchOutcome.Failed);
        Assert.Equal("cat", refused.Key);
        Assert.Contains("would name the same output file as 'Cat'", refused.Error, StringComparison.Ordinal);
        Assert.Equal(2, emulator.AcceptedSubmits); // Cat.png and CAT.jpg are different files
        Assert.Equal(2, folder.GetFiles().Length);

        // Without an output folder nothing is written, so case alone is enough.
        var inMemory = await RunAsync(client, [Job("Dog"), Job("dog")], new BatchOptions());
        Assert.All(inMemory, r => Assert.Equal(BatchOutcome.Completed, r.Outcome));
    }

    [Fact]
    public async Task The_account_limits_are_kept_by_the_client_itself()
    {
        // The emulator does not enforce anything here: what it counts is what the client sent.
        await using var emulator = await Emu.StartAsync(timeScale: 0.01);
        using var client = Emu.Client(emulator);
        var window = TimeSpan.FromSeconds(1);
        var results = await RunAsync(client, Enumerable.Range(0, 25).Select(i => Job($"k{i}")), new BatchOptions { MaxConcurrency = 8, Limits = new AccountLimits(3, 10) { Window = window } });

        Assert.All(results, r => Assert.Equal(BatchOutcome.Completed, r.Outcome));
        Assert.True(emulator.MaxConcurrentJobs() <= 3, $"{emulator.MaxConcurrentJobs()} jobs ran at once");
        // Exact at the service: a permit counts until a window after its submit exchange ends, so network jitter
        // between the client's grant and the service's count cannot squeeze an eleventh submit into a window.
        var seen = emulator.MaxAcceptedInAnyWindow(window);
        Assert.True(seen <= 10, $"{seen} accepted within one window");
        Assert.True(emulator.MaxAcceptedInAnyWindow(window * 2) >= 11, "25 jobs at 10 a window need three windows");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_batches_at_once_on_one_account_share_its_limits(bool twoClients)
    {
        // Each batch has its own in-memory journal; the emulator enforces nothing and counts what the client sent.
        await using var emulator = await Emu.StartAsync(timeScale: 0.01);
        using var client = Emu.Client(emulator);
        using var other = twoClients ? Emu.Client(emulator) : null; // another client object, same host and key
        var window = TimeSpan.FromSeconds(1);
        var limits = new AccountLimits(3, 8) { Window = window };
        var runs = await Task.WhenAll(
            RunAsync(client, Enumerable.Range(0, 12).Select(i => Job($"a{i}")), new BatchOptions { MaxConcurrency = 8, Limits = limits }),
            RunAsync(other ?? client, Enumerable.Range(0, 12).Select(i => Job($"b{i}")), new BatchOptions { MaxConcurrency = 8, Limits = limits }));

        Assert.All(runs.SelectMany(r => r), r => Assert.Equal(BatchOutcome.Completed, r.Outcome));
        Assert.True(emulator.MaxConcurrentJobs() <= 3, $"{emulator.MaxConcurrentJobs()} jobs ran at once");
        var seen = emulator.MaxAcceptedInAnyWindow(window);
        Assert.True(seen <= 8, $"{seen} accepted within one window: each batch kept its own");
    }

    // The emulator's defaults changed: other latency shapes, executionTime reported or not, other body spellings.
    public static TheoryData<string> Worlds() => ["default", "lognormal+executionTime", "two-mode+arrays+iso"];

    internal static void World(EmulatorOptions o, string world) => NanoBanana.Soak.EmulatorWorlds.Configure(o, world);

    [Theory]
    [MemberData(nameof(Worlds))]
    public async Task A_429_lowers_concurrency_and_the_job_is_sent_again_never_paid_twice(string world)
    {
        await using var emulator = await Emu.StartAsync(o => { o.AccountLimits = new AccountLimits(2, 1000); World(o, world); }, timeScale: 0.01);
        using var client = Emu.Client(emulator);
        var lowest = int.MaxValue;
        var progress = new SynchronousProgress<BatchProgress>(p => lowest = Math.Min(lowest, p.Concurrency));
        var results = await RunAsync(client, Enumerable.Range(0, 20).Select(i => Job($"k{i}")), new BatchOptions { MaxConcurrency = 6, RateLimitBackoff = TimeSpan.FromMilliseconds(20) }, progress);

        Assert.All(results, r => Assert.Equal(BatchOutcome.Completed, r.Outcome));
        Assert.True(results.Sum(r => r.RateLimitedSubmits) > 0, "the emulator answered 429 at least once");
        Assert.True(lowest < 6, $"concurrency stayed at {lowest}");
        Assert.All(emulator.AcceptedPerPrompt().Values, count => Assert.Equal(1, count));
        Assert.Equal(20, emulator.AcceptedSubmits);
        Assert.Equal(emulator.Count("submit"), 20 + emulator.Requests.Count(r => r.Kind == "submit" && r.StatusCode == 429));
    }

    [Fact]
    public async Task A_budget_is_never_crossed_and_the_jobs_beyond_it_are_reported()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var journal = new InMemoryPredictionJournal();
        var results = await RunAsync(client, Enumerable.Range(0, 8).Select(i => Job($"k{i}")), new BatchOptions { Journal = journal, BudgetUsd = 0.20m, MaxConcurrency = 3 });

        Assert.Equal(5, results.Count(r => r.Outcome == BatchOutcome.Completed)); // 5 × $0.039 = $0.195
        Assert.Equal(3, results.Count(r => r.Outcome == BatchOutcome.SkippedOverBudget && r.Error!.Contains("budget", StringComparison.Ordinal)));
        Assert.Equal(5, emulator.AcceptedSubmits);
        Assert.True((await journal.ReadAsync()).Sum(e => e.ChargeUsd) <= 0.20m);

        // A second batch the same day, on the same store: the daily cap counts the first batch's spend.
        var second = await RunAsync(client, Enumerable.Range(0, 3).Select(i => Job($"day2-{i}")), new BatchOptions { Journal = journal, DailyBudgetUsd = 0.25m });
        Assert.Equal(1, second.Count(r => r.Outcome == BatchOutcome.Completed)); // 0.195 + 0.039 = 0.234 <= 0.25
        Assert.Equal(6, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task With_fallback_allowed_the_reservation_covers_the_dearest_model()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var job = new BatchJob("a", new ImageJob("a poster") { AllowFallback = true, TypographyCritical = true });
        var results = await RunAsync(client, [job], new BatchOptions { BudgetUsd = 0.10m });

        // Routed to Pro ($0.134) first: over the budget, so not sent.
        Assert.Equal(BatchOutcome.SkippedOverBudget, Assert.Single(results).Outcome);
        Assert.Equal(0, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_rerun_resumes_accepted_jobs_skips_done_ones_and_holds_back_unknown_submits()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var journal = new InMemoryPredictionJournal();

        // What a worker that died left behind: k1 accepted (really, on the emulator), k2 mid-submit, k3 completed.
        var accepted = await client.StartGenerationAsync(Job("k1").Job);
        await journal.ClaimAsync("k1", "dead", TimeSpan.FromMilliseconds(1));
        await journal.BeginSubmitAsync("k1", "dead", 0.039m, null, null, DateOnly.FromDateTime(DateTime.UtcNow));
        await journal.AcceptedAsync("k1", accepted.Id, accepted.Model.Id, 0.039m);
        await journal.ClaimAsync("k2", "dead", TimeSpan.FromMilliseconds(1));
        await journal.BeginSubmitAsync("k2", "dead", 0.039m, null, null, DateOnly.FromDateTime(DateTime.UtcNow));
        await journal.ClaimAsync("k3", "dead", TimeSpan.FromMilliseconds(1));
        await journal.CompletedAsync("k3", "/images/k3.png");
        await Task.Delay(20); // the dead worker's leases run out

        var results = (await RunAsync(client, new[] { "k1", "k2", "k3", "k4" }.Select(k => Job(k)), new BatchOptions { Journal = journal })).ToDictionary(r => r.Key);
        Assert.Equal(BatchOutcome.Completed, results["k1"].Outcome);
        Assert.Equal(accepted.Id, results["k1"].PredictionId);
        Assert.Equal(BatchOutcome.OutcomeUnknown, results["k2"].Outcome);
        Assert.Equal(BatchOutcome.AlreadyCompleted, results["k3"].Outcome);
        Assert.Equal("/images/k3.png", results["k3"].OutputPath);
        Assert.Equal(BatchOutcome.Completed, results["k4"].Outcome);
        Assert.Equal(2, emulator.AcceptedSubmits); // k1 before the "crash", k4 now; k2 and k3 were not sent
        Assert.Equal(0, emulator.AcceptedPerPrompt().GetValueOrDefault("prompt k2"));

        // The caller opts in to resending k2.
        var again = await RunAsync(client, new[] { "k1", "k2", "k3", "k4" }.Select(k => Job(k)), new BatchOptions { Journal = journal, ResubmitUnknown = true });
        Assert.Equal(BatchOutcome.Completed, again.Single(r => r.Key == "k2").Outcome);
        Assert.Equal(3, again.Count(r => r.Outcome == BatchOutcome.AlreadyCompleted));
        Assert.Equal(3, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Cancelling_keeps_accepted_jobs_in_the_journal_and_a_rerun_collects_them_without_resubmitting()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.05); // Nano Banana: 150-300 ms
        using var client = Emu.Client(emulator);
        var journal = new InMemoryPredictionJournal();
        using var cts = new CancellationTokenSource();
        var seen = new List<BatchItemResult>();
        var accepted = 0;
        var progress = new SynchronousProgress<BatchProgress>(p =>
        {
            if (p.SpentUsd >= 0.039m * 4 && Interlocked.Exchange(ref accepted, 1) == 0)
            {
                cts.Cancel(); // four jobs accepted and running
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var r in client.RunBatchAsync(Enumerable.Range(0, 12).Select(i => Job($"k{i}")), new BatchOptions { Journal = journal, MaxConcurrency = 4 }, progress, cts.Token))
            {
                seen.Add(r);
            }
        });

        var pending = seen.Where(r => r.Outcome == BatchOutcome.Pending).ToList();
        Assert.NotEmpty(pending);
        Assert.All(pending, p => Assert.NotNull(p.PredictionId));
        var acceptedBefore = emulator.AcceptedSubmits;

        var rerun = await RunAsync(client, Enumerable.Range(0, 12).Select(i => Job($"k{i}")), new BatchOptions { Journal = journal, MaxConcurrency = 4 });
        Assert.All(rerun, r => Assert.True(r.Outcome is BatchOutcome.Completed or BatchOutcome.AlreadyCompleted, r.Key + ": " + r.Outcome));
        Assert.Equal(12, emulator.AcceptedSubmits);
        Assert.Equal(12 - acceptedBefore, rerun.Count(r => r.Outcome == BatchOutcome.Completed) - pending.Count);
        Assert.All(emulator.AcceptedPerPrompt().Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task A_job_another_worker_holds_is_taken_over_when_its_lease_runs_out()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var journal = new InMemoryPredictionJournal();
        await journal.ClaimAsync("k0", "other-worker", TimeSpan.FromSeconds(1)); // claimed, then that worker died

        var results = await RunAsync(client, Enumerable.Range(0, 3).Select(i => Job($"k{i}")), new BatchOptions { Journal = journal, Lease = TimeSpan.FromSeconds(1) });
        Assert.All(results, r => Assert.Equal(BatchOutcome.Completed, r.Outcome));
        Assert.Equal("k0", results[^1].Key); // after the others: it waited for the lease
        Assert.Equal(3, emulator.AcceptedSubmits);
    }

    [Fact]
    public void Options_are_checked_before_anything_is_sent()
    {
        using var client = new NanoBananaClient(new NanoBananaOptions { ApiKey = "k" });
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => client.RunBatchAsync([Job("a")], new BatchOptions { BudgetUsd = 0 }));
        Assert.Contains("BudgetUsd", bad.Message, StringComparison.Ordinal);
        Assert.Contains("ConcurrentTasks", Assert.Throws<ArgumentOutOfRangeException>(() => client.RunBatchAsync([Job("a")], new BatchOptions { Limits = new AccountLimits(0, 10) })).Message, StringComparison.Ordinal);

        // Spans no timer can hold (a Task.Delay of a third of a 100-day lease threw after the batch had started).
        Assert.Contains("BatchOptions.Lease must be at least 1 second and at most 1 day", Assert.Throws<ArgumentOutOfRangeException>(() => client.RunBatchAsync([Job("a")], new BatchOptions { Lease = TimeSpan.FromDays(100) })).Message, StringComparison.Ordinal);
        Assert.Contains("BatchOptions.RateLimitBackoff must be positive and at most 1 day", Assert.Throws<ArgumentOutOfRangeException>(() => client.RunBatchAsync([Job("a")], new BatchOptions { RateLimitBackoff = TimeSpan.MaxValue })).Message, StringComparison.Ordinal);
        Assert.Contains("BatchOptions.UnknownOutcomeWait must be from 0 to 7 days", Assert.Throws<ArgumentOutOfRangeException>(() => client.RunBatchAsync([Job("a")], new BatchOptions { UnknownOutcomeWait = TimeSpan.FromDays(8) })).Message, StringComparison.Ordinal);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value)
        {
            lock (this)
            {
                report(value);
            }
        }
    }
}
