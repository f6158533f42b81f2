using System.Diagnostics;
using System.Globalization;
using NanoBanana.Batch;
using NanoBanana.Emulator;
using NanoBanana.Journal.PostgreSql;
using NanoBanana.Journal.Sqlite;
using NanoBanana.Soak;

namespace NanoBanana.Benchmarks;

// batch-soak (issue 14): the CLI's batch as real worker processes against one in-process emulator (time scale 0.01,
// counting only: it enforces nothing, so what it counts is what the workers sent). The account: 10 tasks at once and
// 12 images a "minute" (0.6 s here).
//   1. PostgreSQL, 3 workers, N jobs; worker 2 killed with SIGKILL after 30% of the jobs and restarted.
//   2. SQLite, 1 worker, N jobs; killed after 30% and restarted.
//   3. Throughput on PostgreSQL with 1, 2, 3 workers (4 jobs in flight each; the account allows 10).
//   4. A budget shared by 3 workers.
internal static class BatchSoak
{
    private const double TimeScale = 0.01;
    private const int PerMinute = 12; // 20 submits/s at this scale: below what 3 workers could send, so the limit binds
    private const int AccountTasks = 10;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1) * TimeScale;

    public static async Task<int> RunAsync(int jobs, string? only = null)
    {
        if (!SelectedWorld.TrySelect(out var world, out _))
        {
            return 2;
        }

        Console.WriteLine($"batch-soak: {jobs} jobs of Nano Banana 1K, emulator time scale {TimeScale} (a 'minute' is {Window.TotalSeconds:0.00} s), account: {AccountTasks} tasks, {PerMinute} per minute, emulator {world ?? "defaults"}");
        using var postgres = new PostgresServer();
        var failures = 0;

        if (only is null or "crash")
        {
            failures += await CrashAsync("PostgreSQL, 3 workers, worker 3 killed", jobs, 3, () => postgres.NewDatabase("soak"));
            failures += await CrashAsync("SQLite, 1 worker, killed", jobs, 1, null);
        }

        if (only is "webhook")
        {
            // WaveSpeed with webhooks, 400 submits a minute so that many are in flight at each kill; killed three times.
            failures += await CrashAsync("PostgreSQL + webhooks, 3 workers, worker 3 killed 3 times", jobs, 3, () => postgres.NewDatabase("soak"), webhooks: true);
            failures += await CrashAsync("SQLite + webhooks, 1 worker, killed 3 times", jobs, 1, null, webhooks: true);
        }

        if (only is null or "throughput")
        {
            foreach (var workers in new[] { 1, 2, 3 })
            {
                await ThroughputAsync(workers, Math.Min(jobs, 300), postgres.NewDatabase("throughput"));
            }
        }

        if (only is null or "budget")
        {
            failures += await BudgetAsync(postgres.NewDatabase("budget"));
        }
        Console.WriteLine(failures == 0 ? "batch-soak: every goal met" : $"batch-soak: {failures} goal(s) missed");
        return failures == 0 ? 0 : 1;
    }

    private static async Task<int> CrashAsync(string title, int jobs, int workers, Func<string>? database, bool webhooks = false)
    {
        await using var emulator = await NanoBananaEmulator.StartAsync(SelectedWorld.Apply(new EmulatorOptions { TimeScale = TimeScale, LogBodies = false, MaxLogEntries = 1000 }));
        using var folder = new TempFolder();
        var file = folder.Jobs(jobs, "crash");
        var journal = database?.Invoke() ?? Path.Combine(folder.Path, "batch.db");

        // The webhook receiver outlives the workers, as an application's endpoint would, and writes to the same journal.
        IPredictionJournal? sinkJournal = webhooks ? (database is null ? new SqlitePredictionJournal(journal, "crash") : new PostgreSqlPredictionJournal(journal, "crash")) : null;
        await using var sink = sinkJournal is null ? null : await WebhookSink.StartAsync(sinkJournal, NanoBananaEmulator.WebhookSecret);
        var perMinute = webhooks ? 400 : PerMinute;
        Worker Start(string name) => Worker.Start(emulator, file, journal, folder.Output, name, perMinute: perMinute, webhook: sink?.Url);

        var watch = Stopwatch.StartNew();
        var running = Enumerable.Range(1, workers).Select(w => Start($"w{w}")).ToList();

        // Kill the last worker once 30% of the jobs are done (counted across workers); with webhooks at 20, 45 and 70%.
        var kills = new List<int>();
        foreach (var share in webhooks ? new[] { 20, 45, 70 } : [30])
        {
            var victim = running.Last(r => r.Name == $"w{workers}");
            while (running.Sum(r => r.Done) < jobs * share / 100 && !victim.Process.HasExited)
            {
                await Task.Delay(5);
            }

            if (victim.Process.HasExited)
            {
                break;
            }

            kills.Add(running.Sum(r => r.Done));
            victim.Process.Kill();
            await victim.Process.WaitForExitAsync();
            running.Add(Start(victim.Name));
        }

        await Task.WhenAll(running.Select(r => r.Process.WaitForExitAsync()));
        watch.Stop();
        var doneAtKill = string.Join(", ", kills);
        (sinkJournal as IDisposable)?.Dispose();

        IReadOnlyList<JournalEntry> entries;
        if (database is null)
        {
            entries = await new SqlitePredictionJournal(journal, "crash").ReadAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
        else
        {
            await using var pg = new PostgreSqlPredictionJournal(journal, "crash");
            entries = await pg.ReadAsync();
        }

        var images = Directory.GetFiles(folder.Output, "*.png").Length;
        var twice = emulator.AcceptedPerPrompt().Count(p => p.Value > 1);
        var unknown = entries.Count(e => e.State == JournalState.Submitting);
        var completed = entries.Count(e => e.State == JournalState.Completed);
        var lost = jobs - completed - unknown;
        var maxWindow = emulator.MaxAcceptedInAnyWindow(Window);
        var maxConcurrent = emulator.MaxConcurrentJobs();
        var recovered = sink?.Outcomes.Count(o => o == BatchWebhookOutcome.Recovered);
        Console.WriteLine($"{title}: {watch.Elapsed.TotalSeconds:0.0} s; killed after {doneAtKill} done; images {images}; completed {completed}; " +
            $"submitted twice {twice}; unknown outcome {unknown}; lost {lost}; accepted {emulator.AcceptedSubmits}; most in one window {maxWindow} (limit {perMinute}); most at once {maxConcurrent} (account limit {AccountTasks})" +
            (sink is null ? "" : $"; webhooks delivered {emulator.WebhooksDelivered}, recovered by webhook {recovered}, refused {sink.Rejected}"));
        // The goal: every job an image, none paid twice, limits kept. An unknown outcome (killed mid-submit) misses it.
        return (images == jobs && twice == 0 && lost == 0 && unknown == 0 && maxWindow <= perMinute && maxConcurrent <= AccountTasks) ? 0 : 1;
    }

    // At time scale 0.1 (Nano Banana 0.3-0.6 s) so that waiting, not this 2-core machine's CPU, sets the pace.
    private static async Task ThroughputAsync(int workers, int jobs, string database)
    {
        const double Scale = 0.1;
        await using var emulator = await NanoBananaEmulator.StartAsync(SelectedWorld.Apply(new EmulatorOptions { TimeScale = Scale, LogBodies = false, MaxLogEntries = 1000 }));
        using var folder = new TempFolder();
        var file = folder.Jobs(jobs, "throughput");
        var watch = Stopwatch.StartNew();
        var running = Enumerable.Range(1, workers).Select(w => Worker.Start(emulator, file, database, folder.Output, $"t{w}", concurrency: 4, scale: Scale, perMinute: 400)).ToList();
        await Task.WhenAll(running.Select(r => r.Process.WaitForExitAsync()));
        watch.Stop();
        Console.WriteLine($"throughput (time scale {Scale}, 400 a minute), {workers} worker(s) × 4 in flight, account {AccountTasks}: {jobs} jobs in {watch.Elapsed.TotalSeconds:0.00} s = {jobs / watch.Elapsed.TotalSeconds:0.0} jobs/s; most at once {emulator.MaxConcurrentJobs()}; accepted {emulator.AcceptedSubmits}");
    }

    private static async Task<int> BudgetAsync(string database)
    {
        await using var emulator = await NanoBananaEmulator.StartAsync(SelectedWorld.Apply(new EmulatorOptions { TimeScale = TimeScale, LogBodies = false, MaxLogEntries = 1000 }));
        using var folder = new TempFolder();
        var file = folder.Jobs(300, "budget");
        var running = Enumerable.Range(1, 3).Select(w => Worker.Start(emulator, file, database, folder.Output, $"b{w}", budget: 5.00m)).ToList();
        await Task.WhenAll(running.Select(r => r.Process.WaitForExitAsync()));
        await using var pg = new PostgreSqlPredictionJournal(database, "budget");
        var entries = await pg.ReadAsync();
        var charged = entries.Sum(e => e.ChargeUsd);
        var accepted = emulator.AcceptedSubmits;
        Console.WriteLine($"budget $5.00 shared by 3 workers: accepted {accepted} × $0.039 = ${accepted * 0.039m}; journal charges ${charged}; skipped {entries.Count(e => e.State == JournalState.Skipped)}");
        return accepted * 0.039m <= 5.00m && charged <= 5.00m ? 0 : 1;
    }

    private sealed class Worker
    {
        private int _done;

        private Worker(string name, Process process)
        {
            Name = name;
            Process = process;
        }

        public string Name { get; }

        public Process Process { get; }

        public int Done => Volatile.Read(ref _done);

        public static Worker Start(NanoBananaEmulator emulator, string file, string journal, string output, string name, int concurrency = AccountTasks, decimal? budget = null, double scale = TimeScale, int perMinute = PerMinute, Uri? webhook = null)
        {
            var args = new List<string>
            {
                "batch", file, "--journal", journal, "--out", output, "--worker", name,
                "--base-url", emulator.ApiBaseUrl.AbsoluteUri, "--api-key", "soak", "--emulator-time-scale", scale.ToString(CultureInfo.InvariantCulture),
                "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture), "--account-tasks", AccountTasks.ToString(CultureInfo.InvariantCulture),
                "--per-minute", perMinute.ToString(CultureInfo.InvariantCulture),
            };
            if (webhook is not null)
            {
                // A job still unknown once the wait (300 s of the emulator's time) passed without a delivery was never accepted.
                args.AddRange(["--provider", "WaveSpeed", "--webhook", webhook.AbsoluteUri, "--resubmit-unknown"]);
            }

            if (budget is { } b)
            {
                args.AddRange(["--budget", b.ToString(CultureInfo.InvariantCulture)]);
            }

            var worker = new Worker(name, DotnetApp.Start("NanoBanana.Cli.dll", args));
            worker.Process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains(" done, ", StringComparison.Ordinal) == true)
                {
                    Interlocked.Increment(ref worker._done);
                }
            };
            worker.Process.ErrorDataReceived += (_, e) =>
            {
                if (!string.IsNullOrEmpty(e.Data))
                {
                    Console.Error.WriteLine($"[{name}] {e.Data}");
                }
            };
            worker.Process.BeginOutputReadLine();
            worker.Process.BeginErrorReadLine();
            return worker;
        }
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("nb-batch-soak-").FullName;

        public string Output => System.IO.Path.Combine(Path, "out");

        public string Jobs(int count, string name)
        {
            var file = System.IO.Path.Combine(Path, name + ".jsonl");
            File.WriteAllLines(file, Enumerable.Range(0, count).Select(i => $"{{\"key\": \"{name}-{i:0000}\", \"prompt\": \"{name} product {i}\", \"tier\": \"NanoBanana\"}}"));
            return file;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
