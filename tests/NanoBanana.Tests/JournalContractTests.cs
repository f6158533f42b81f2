using NanoBanana.Soak;
using NanoBanana.Batch;
using NanoBanana.Journal.Sqlite;

namespace NanoBanana.Tests;

/// <summary>
/// What every journal store must do alike, run against each: claims and leases, atomic budget reservations under
/// contention, and a batch that re-runs after a crash on the same store (a new journal object on the same storage).
/// </summary>
public abstract class JournalContractTests
{
    /// <summary>A journal on the store; called twice with the same <paramref name="name"/> it must share state (a restart).</summary>
    protected abstract IPredictionJournal Open(string name, string batchId = "default", TimeProvider? time = null);

    /// <summary>Whether the store keeps several batches apart (the in-memory journal is one batch).</summary>
    protected virtual bool KeepsBatchesApart => true;

    /// <summary>Whether the store keeps the account's limits for every worker and every run that shares it (<see cref="ISharedAccountGate"/>).</summary>
    protected virtual bool SharesAccountLimits => true;

    private static readonly DateOnly Today = new(2026, 11, 22);

    [Fact]
    public async Task The_account_window_outlives_a_worker_killed_mid_submit()
    {
        var time = new ManualTimeProvider();
        var first = Open("window", time: time);
        Assert.Equal(SharesAccountLimits, first is ISharedAccountGate);
        if (first is not ISharedAccountGate gate)
        {
            return; // the in-memory journal lives and dies with its process: nothing outlives it to share
        }

        // 3 submits a minute. One at 0 s and one at 10 s end at once; one at 20 s never ends (its worker was killed).
        var limits = new AccountLimits(ConcurrentTasks: 5, ImagesPerWindow: 3);
        await gate.LeaveSubmitAsync(Ticket(await gate.TryEnterSubmitAsync("w1", limits)));
        time.Advance(TimeSpan.FromSeconds(10));
        await gate.LeaveSubmitAsync(Ticket(await gate.TryEnterSubmitAsync("w1", limits)));
        time.Advance(TimeSpan.FromSeconds(10));
        Ticket(await gate.TryEnterSubmitAsync("w1", limits));

        // The worker restarted (a new object on the same storage) counts all three: the next submit waits until the
        // first is a window past its end.
        var restarted = (ISharedAccountGate)Open("window", time: time);
        var (ticket, retryAfter) = await restarted.TryEnterSubmitAsync("w1", limits);
        Assert.Null(ticket);
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(39.99), TimeSpan.FromSeconds(40.01));
        time.Advance(TimeSpan.FromSeconds(41));
        Ticket(await restarted.TryEnterSubmitAsync("w1", limits));
        (ticket, retryAfter) = await restarted.TryEnterSubmitAsync("w1", limits); // the one at 10 s, the unended one and this
        Assert.Null(ticket);
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(8.99), TimeSpan.FromSeconds(9.01));

        // Concurrency: a submit on the wire holds its slot until it ends, across objects on the same storage and
        // across batches (the account is one, whatever the batch).
        var single = new AccountLimits(ConcurrentTasks: 1, ImagesPerWindow: 100);
        var other = (ISharedAccountGate)Open("concurrency", time: time);
        var held = Ticket(await other.TryEnterSubmitAsync("w1", single));
        Assert.Null((await ((ISharedAccountGate)Open("concurrency", "another-batch", time)).TryEnterSubmitAsync("w2", single)).Ticket);
        await other.LeaveSubmitAsync(held);
        Ticket(await ((ISharedAccountGate)Open("concurrency", "another-batch", time)).TryEnterSubmitAsync("w2", single));

        // A ticket never left (its worker was killed) holds its concurrency slot for one window, not for the ten that
        // it still counts in the rate window.
        var two = new AccountLimits(ConcurrentTasks: 1, ImagesPerWindow: 2);
        var orphans = (ISharedAccountGate)Open("orphan", time: time);
        Ticket(await orphans.TryEnterSubmitAsync("w1", two));
        Assert.Null((await orphans.TryEnterSubmitAsync("w1", two)).Ticket); // on the wire
        time.Advance(two.Window + TimeSpan.FromSeconds(1));
        var after = (ISharedAccountGate)Open("orphan", time: time);
        await after.LeaveSubmitAsync(Ticket(await after.TryEnterSubmitAsync("w1", two))); // the slot is free again
        Assert.Null((await after.TryEnterSubmitAsync("w1", two)).Ticket); // but the orphan still counts in the window

        static long Ticket((long? Ticket, TimeSpan RetryAfter) entered) =>
            entered.Ticket ?? throw new Xunit.Sdk.XunitException($"refused, retry after {entered.RetryAfter}");
    }

    [Fact]
    public async Task Claims_follow_the_lease_and_the_state()
    {
        var time = new ManualTimeProvider();
        var journal = Open("claims", time: time);
        Assert.Equal(JournalClaim.Submit, (await journal.ClaimAsync("a", "w1", TimeSpan.FromSeconds(10))).Claim);
        Assert.Equal(JournalClaim.Busy, (await journal.ClaimAsync("a", "w2", TimeSpan.FromSeconds(10))).Claim);
        Assert.True(await journal.BeginSubmitAsync("a", "w1", 0.05m, null, null, Today));
        time.Advance(TimeSpan.FromSeconds(11)); // w1 died mid-submit
        var (claim, entry) = await journal.ClaimAsync("a", "w2", TimeSpan.FromSeconds(10));
        Assert.Equal(JournalClaim.Unknown, claim);
        Assert.Equal(JournalState.Submitting, entry!.State);
        await journal.AcceptedAsync("a", "pred-1", "gemini-2.5-flash-image", 0.039m);
        await journal.RenewLeasesAsync("w2", TimeSpan.Zero); // w2 hands it back
        (claim, entry) = await journal.ClaimAsync("a", "w3", TimeSpan.FromSeconds(10));
        Assert.Equal((JournalClaim.Resume, "pred-1", 0.039m), (claim, entry!.PredictionId, entry.ChargeUsd));
        await journal.CompletedAsync("a", "/out/a.png");

        // A new object on the same storage sees it all (a restart).
        var reopened = Open("claims", time: time);
        (claim, entry) = await reopened.ClaimAsync("a", "w4", TimeSpan.FromSeconds(10));
        Assert.Equal((JournalClaim.Done, "/out/a.png"), (claim, entry!.OutputPath));
        Assert.Equal(JournalState.Completed, Assert.Single(await reopened.ReadAsync()).State);
    }

    [Fact]
    public async Task Budget_reservations_are_atomic_under_contention()
    {
        var journal = Open("budget");
        var keys = Enumerable.Range(0, 40).Select(i => $"k{i}").ToList();
        foreach (var k in keys)
        {
            await journal.ClaimAsync(k, "w", TimeSpan.FromMinutes(1));
        }

        // 40 reservations of $0.039 race for a $0.50 cap: exactly 12 fit ($0.468).
        var granted = await Task.WhenAll(keys.Select(k => Task.Run(async () => await journal.BeginSubmitAsync(k, "w", 0.039m, 0.50m, null, Today))));
        Assert.Equal(12, granted.Count(g => g));
        Assert.Equal(0.468m, (await journal.ReadAsync()).Sum(e => e.ChargeUsd));

        // Released and failed-unbilled charges come back; the daily cap counts other batches in the same store.
        await journal.ReleaseAsync(keys[granted.ToList().IndexOf(true)]);
        Assert.Equal(0.429m, (await journal.ReadAsync()).Sum(e => e.ChargeUsd));
        if (!KeepsBatchesApart)
        {
            return;
        }

        var other = Open("budget", batchId: "other");
        await other.ClaimAsync("x", "w", TimeSpan.FromMinutes(1));
        Assert.False(await other.BeginSubmitAsync("x", "w", 0.1m, null, 0.5m, Today)); // 0.429 + 0.1 > 0.5
        Assert.True(await other.BeginSubmitAsync("x", "w", 0.1m, null, 0.5m, Today.AddDays(1)));
        Assert.True(await other.BeginSubmitAsync("x", "w", 0.1m, 0.1m, null, Today)); // its own batch is empty
    }

    [Fact]
    public async Task A_batch_rerun_on_the_same_store_resumes_skips_and_holds_back()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        BatchJob Job(string key) => new(key, new ImageJob($"prompt {key}") { PinnedTier = ImageTier.NanoBanana });

        // A first run that dies: k1 accepted, k2 mid-submit, k3 done.
        var crashed = Open("rerun");
        var accepted = await client.StartGenerationAsync(Job("k1").Job);
        await crashed.ClaimAsync("k1", "dead", TimeSpan.FromMilliseconds(1));
        await crashed.BeginSubmitAsync("k1", "dead", 0.039m, null, null, Today);
        await crashed.AcceptedAsync("k1", accepted.Id, accepted.Model.Id, 0.039m);
        await crashed.ClaimAsync("k2", "dead", TimeSpan.FromMilliseconds(1));
        await crashed.BeginSubmitAsync("k2", "dead", 0.039m, null, null, Today);
        await crashed.ClaimAsync("k3", "dead", TimeSpan.FromMilliseconds(1));
        await crashed.CompletedAsync("k3", "/images/k3.png");
        await Task.Delay(20);

        var results = new Dictionary<string, BatchItemResult>();
        await foreach (var r in client.RunBatchAsync(new[] { "k1", "k2", "k3", "k4" }.Select(Job), new BatchOptions { Journal = Open("rerun") }))
        {
            results[r.Key] = r;
        }

        Assert.Equal((BatchOutcome.Completed, accepted.Id), (results["k1"].Outcome, results["k1"].PredictionId));
        Assert.Equal(BatchOutcome.OutcomeUnknown, results["k2"].Outcome);
        Assert.Equal(BatchOutcome.AlreadyCompleted, results["k3"].Outcome);
        Assert.Equal(BatchOutcome.Completed, results["k4"].Outcome);
        Assert.Equal(2, emulator.AcceptedSubmits);
        var states = (await Open("rerun").ReadAsync()).ToDictionary(e => e.Key, e => e.State);
        Assert.Equal(JournalState.Completed, states["k1"]);
        Assert.Equal(JournalState.Submitting, states["k2"]);
        Assert.Equal(JournalState.Completed, states["k4"]);
    }

    [Theory]
    [InlineData("plain-0001")]
    [InlineData("x\u001b[2J\ny\u202E../\\:?#%")]
    [InlineData("nul\u0000inside")]
    [InlineData("画像🍌-ид")]
    [InlineData("LONG")]
    public async Task An_id_the_service_chose_is_kept_exactly(string id)
    {
        // Whatever the service sent is what a re-run resumes by: the store must give back the very same string.
        // (A lone surrogate cannot arrive: the JSON reader refuses one, and the answer is malformed.)
        id = id == "LONG" ? new string('a', 20_000) : id;

        var journal = Open("ids-" + id.Length);
        var key = "k-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)))[..8];
        await journal.ClaimAsync(key, "w", TimeSpan.FromMinutes(1));
        await journal.BeginSubmitAsync(key, "w", 0.039m, null, null, Today);
        await journal.AcceptedAsync(key, id, "gemini-2.5-flash-image", 0.039m);
        var entry = (await Open("ids-" + id.Length).ReadAsync()).Single(e => e.Key == key);
        Assert.Equal((JournalState.Accepted, id), (entry.State, entry.PredictionId));
    }

    [Fact]
    public async Task A_webhook_recovers_a_job_whose_worker_died_before_writing_its_id()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.05);
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);

        // The receiver writes through its own journal object on the same storage, as another process would.
        await using var sink = await WebhookSink.StartAsync(Open("hook"), NanoBanana.Emulator.NanoBananaEmulator.WebhookSecret);
        BatchJob Job(string key) => new(key, new ImageJob($"prompt {key}") { PinnedTier = ImageTier.NanoBanana });

        // A worker dies between the service's acceptance of k2 and the journal's write of its id.
        var crashed = Open("hook");
        await crashed.ClaimAsync("k2", "dead", TimeSpan.FromMilliseconds(1));
        await crashed.BeginSubmitAsync("k2", "dead", 0.039m, null, null, Today);
        var lost = await client.StartGenerationAsync(Job("k2").Job with { WebhookUrl = BatchWebhookReceiver.ForJob(sink.Url, "k2") });
        await Task.Delay(20);

        var results = new Dictionary<string, BatchItemResult>();
        var options = new BatchOptions { Journal = Open("hook"), WebhookUrl = sink.Url, Lease = TimeSpan.FromSeconds(1), UnknownOutcomeWait = TimeSpan.FromSeconds(30) };
        await foreach (var r in client.RunBatchAsync(new[] { "k1", "k2", "k3" }.Select(Job), options))
        {
            results[r.Key] = r;
        }

        Assert.Equal((BatchOutcome.Completed, lost.Id), (results["k2"].Outcome, results["k2"].PredictionId));
        Assert.Equal(BatchOutcome.Completed, results["k1"].Outcome);
        Assert.Equal(BatchOutcome.Completed, results["k3"].Outcome);
        Assert.Equal(3, emulator.AcceptedSubmits); // k2 once
        Assert.Contains(BatchWebhookOutcome.Recovered, sink.Outcomes);
        var k2 = (await Open("hook").ReadAsync()).Single(e => e.Key == "k2");
        Assert.Equal((JournalState.Completed, lost.Id, 0.039m), (k2.State, k2.PredictionId, k2.ChargeUsd));
    }
}

public sealed class InMemoryJournalContractTests : JournalContractTests
{
    private readonly Dictionary<string, InMemoryPredictionJournal> _stores = [];

    protected override bool KeepsBatchesApart => false;

    protected override bool SharesAccountLimits => false;

    // In memory a "restart" can only mean the same object.
    protected override IPredictionJournal Open(string name, string batchId = "default", TimeProvider? time = null) =>
        _stores.TryGetValue(name, out var journal) ? journal : _stores[name] = new InMemoryPredictionJournal(time);
}

public sealed class SqliteJournalContractTests : JournalContractTests, IDisposable
{
    private readonly TempFolder _folder = new("nb-sqlite-");

    protected override IPredictionJournal Open(string name, string batchId = "default", TimeProvider? time = null) =>
        new SqlitePredictionJournal(Path.Combine(_folder.FullName, name + ".db"), batchId, time);

    [Fact]
    public async Task A_journal_in_a_folder_that_does_not_exist_yet_is_created_there()
    {
        var path = Path.Combine(_folder.FullName, "runs", "2026-11", "batch.db");
        var journal = new SqlitePredictionJournal(path);
        Assert.Equal(JournalClaim.Submit, (await journal.ClaimAsync("k", "w1", TimeSpan.FromMinutes(1))).Claim);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void A_journal_that_cannot_be_opened_is_an_io_error_naming_its_path()
    {
        var blocker = Path.Combine(_folder.FullName, "a-file");
        File.WriteAllText(blocker, "not a folder");
        var underFile = Path.Combine(blocker, "batch.db");
        var ex = Assert.Throws<IOException>(() => new SqlitePredictionJournal(underFile));
        Assert.Contains($"The batch journal at '{underFile}' cannot be opened", ex.Message, StringComparison.Ordinal);

        var notSqlite = Path.Combine(_folder.FullName, "notes.db");
        File.WriteAllText(notSqlite, new string('x', 4096));
        ex = Assert.Throws<IOException>(() => new SqlitePredictionJournal(notSqlite));
        Assert.Contains($"The batch journal at '{notSqlite}' cannot be opened", ex.Message, StringComparison.Ordinal);
        Assert.IsType<Microsoft.Data.Sqlite.SqliteException>(ex.InnerException);

        if (!OperatingSystem.IsWindows())
        {
            // A journal where nothing is kept would let every re-run pay for every job again. Checked through /proc and
            // a link into it, where nothing can be created, so even a regressed build cannot touch a device.
            ex = Assert.Throws<IOException>(() => new SqlitePredictionJournal("/proc/self/nb-batch.db"));
            Assert.Contains("The batch journal at '/proc/self/nb-batch.db' cannot be opened: it is under /proc, a tree of devices and kernel files", ex.Message, StringComparison.Ordinal);
            var link = Path.Combine(_folder.FullName, "batch-link.db");
            File.CreateSymbolicLink(link, "/proc/self/nb-batch.db");
            ex = Assert.Throws<IOException>(() => new SqlitePredictionJournal(link));
            Assert.Contains("it is under /proc", ex.Message, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _folder.Dispose();
}

public sealed class PostgreSqlJournalContractTests(PostgresServer server) : JournalContractTests, IClassFixture<PostgresServer>
{
    private readonly Dictionary<string, string> _databases = [];

    protected override IPredictionJournal Open(string name, string batchId = "default", TimeProvider? time = null)
    {
        if (!_databases.TryGetValue(name, out var connection))
        {
            _databases[name] = connection = server.NewDatabase(name);
        }

        return new NanoBanana.Journal.PostgreSql.PostgreSqlPredictionJournal(connection, batchId, time);
    }
}

public sealed class PostgreSqlJournalOpeningTests
{
    [Fact]
    public void A_database_that_cannot_be_reached_is_an_io_error_naming_where_and_never_the_password()
    {
        var port = LoopbackPort.Free(); // nothing listens there now
        var connection = $"Host=127.0.0.1;Port={port};Database=batches;Username=nb;Password=pw-SECRET-42;Timeout=5";
        var ex = Assert.Throws<IOException>(() => new NanoBanana.Journal.PostgreSql.PostgreSqlPredictionJournal(connection));
        Assert.Contains($"PostgreSQL at 127.0.0.1:{port}, database batches) cannot be opened", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<Npgsql.NpgsqlException>(ex.InnerException);
        Assert.DoesNotContain("pw-SECRET-42", ex.ToString(), StringComparison.Ordinal);
    }
}
