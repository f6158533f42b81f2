using System.CommandLine;
using System.Globalization;
using NanoBanana.Batch;
using NanoBanana.Journal.PostgreSql;
using NanoBanana.Journal.Sqlite;
using Spectre.Console;

namespace NanoBanana.Cli;

// nanobanana batch jobs.jsonl --out DIR [--journal batch.db | --journal "Host=…"] [--concurrency N] [--per-minute N]
//   [--budget USD] [--daily-budget USD] [--resubmit-unknown] [--webhook URL [--unknown-wait S]] [--batch-id NAME] [--worker NAME]
public static partial class CliApp
{
    private static readonly Argument<string> JobsFile = new("jobs") { Description = "A JSON-lines file, one job per line: {\"key\": \"sku-1\", \"prompt\": \"…\", \"size\": \"2K\", \"ratio\": \"3:4\", \"typography\": true, …}" };
    private static readonly Option<string?> Journal = new("--journal") { Description = "Where the batch remembers what it sent: a SQLite file (batch.db) or a PostgreSQL connection string (Host=…;Database=…) shared by workers. Re-running the same command resumes" };
    private static readonly Option<int> Concurrency = Checked(
        new Option<int>("--concurrency") { Description = "Jobs in flight at once (the account's concurrent tasks)", DefaultValueFactory = _ => 3 },
        v => AtLeastOneProblem("--concurrency", v));

    private static readonly Option<int?> PerMinute = Checked(
        new Option<int?>("--per-minute") { Description = "Submits per minute, at most (WaveSpeed's default level: 10)" },
        v => AtLeastOneProblem("--per-minute", v));

    private static readonly Option<int?> AccountTasks = Checked(
        new Option<int?>("--account-tasks") { Description = "The account's concurrent tasks across all workers sharing a PostgreSQL journal (default: --concurrency)" },
        v => AtLeastOneProblem("--account-tasks", v));

    private static readonly Option<decimal?> Budget = Checked(
        CliApp.InvariantAmount(new Option<decimal?>("--budget") { Description = "The most this batch may spend, in USD (catalog prices, reserved before each submit)" }),
        v => BudgetProblem("--budget", v));

    private static readonly Option<decimal?> DailyBudget = Checked(
        CliApp.InvariantAmount(new Option<decimal?>("--daily-budget") { Description = "The most all batches in the journal may spend per UTC day, in USD" }),
        v => BudgetProblem("--daily-budget", v));
    private static readonly Option<bool> ResubmitUnknown = new("--resubmit-unknown") { Description = "Send again jobs whose earlier submit may have reached the service (risks paying twice)" };
    private static readonly Option<string?> BatchId = new("--batch-id") { Description = "The batch's name in the journal (default: the jobs file's name)" };
    private static readonly Option<string?> Webhook = Checked(
        new Option<string?>("--webhook") { Description = "WaveSpeed (--provider WaveSpeed): a webhook URL each submit carries with its job's key. A receiver that records deliveries in the same journal (docs/batch.md) lets a run recover jobs whose submit outcome was lost" },
        v => v is null || IsWebhookUrl(v) ? null : $"--webhook must be an absolute https URL (http only on a loopback host) (got '{v}').");
    private static readonly Option<double> UnknownWait = Checked(
        CliApp.InvariantNumber(new Option<double>("--unknown-wait") { Description = "With --webhook: seconds to wait for the webhook of a job whose submit outcome is unknown before reporting it (scaled like the rate window by --emulator-time-scale)", DefaultValueFactory = _ => 300 }),
        v => v is >= 0 and <= MaxUnknownWaitSeconds ? null : $"--unknown-wait must be 0 to {MaxUnknownWaitSeconds} seconds (7 days) (got {v.ToString(CultureInfo.InvariantCulture)}).");

    private const double MaxUnknownWaitSeconds = 7 * 24 * 3600;

    private static string? AtLeastOneProblem(string option, int? value) => value is < 1 ? $"{option} must be at least 1 (got {value})." : null;

    private static string? BudgetProblem(string option, decimal? value) =>
        value is <= 0 ? $"{option} must be above 0 (USD) (got {value.Value.ToString(CultureInfo.InvariantCulture)})." : null;
    private static readonly Option<string?> Worker = new("--worker") { Description = "This worker's name in the journal (default: machine and process id)" };

    private static Command BatchCommand(IAnsiConsole console)
    {
        var batch = new Command("batch", "Run a JSON-lines file of jobs within the account's limits and a budget, with a journal so a re-run resumes and never pays twice");
        batch.Arguments.Add(JobsFile);
        foreach (var option in new Option[] { Out, Journal, Concurrency, PerMinute, AccountTasks, Budget, DailyBudget, ResubmitUnknown, Webhook, UnknownWait, BatchId, Worker })
        {
            batch.Options.Add(option);
        }

        batch.SetAction((parse, ct) =>
        {
            var file = parse.GetValue(JobsFile)!;
            if (!File.Exists(file))
            {
                return Task.FromResult(Usage(console, $"No jobs file at {file}. Give a JSON-lines file, one job per line."));
            }

            if (parse.GetValue(Webhook) is not null && parse.GetValue(Provider) != ApiProvider.WaveSpeed)
            {
                return Task.FromResult(Usage(console, "--webhook needs --provider WaveSpeed: GPT Proto documents no webhooks."));
            }

            return WithClientAsync(console, parse, (client, emulator) => RunBatchAsync(console, client, emulator, parse, file, ct), ct);
        });
        return batch;
    }

    // The library's own rule (BatchOptions.Validate), so the CLI's check cannot drift from what a batch accepts.
    private static bool IsWebhookUrl(string hook)
    {
        if (!Uri.TryCreate(hook, UriKind.Absolute, out var url))
        {
            return false;
        }

        try
        {
            new BatchOptions { WebhookUrl = url }.Validate();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<int> RunBatchAsync(IAnsiConsole console, NanoBananaClient client, NanoBanana.Emulator.NanoBananaEmulator? emulator, ParseResult parse, string file, CancellationToken ct)
    {
        var batchId = parse.GetValue(BatchId) ?? Path.GetFileNameWithoutExtension(file);
        var journalText = parse.GetValue(Journal);
        IPredictionJournal journal = journalText is null ? new InMemoryPredictionJournal()
            : journalText.Contains("Host=", StringComparison.OrdinalIgnoreCase) ? new PostgreSqlPredictionJournal(journalText, batchId)
            : new SqlitePredictionJournal(journalText, batchId);
        if (emulator is not null && journalText is not null)
        {
            console.MarkupLine("[yellow]Note:[/] without a key each run starts a fresh built-in emulator, so a re-run cannot resume jobs an earlier run left accepted. Run `nanobanana emulator` and pass --base-url to try resuming.");
        }

        var options = new BatchOptions
        {
            Journal = journal,
            OutputDirectory = parse.GetValue(Out),
            MaxConcurrency = parse.GetValue(Concurrency),
            Limits = parse.GetValue(PerMinute) is { } perMinute
                ? new AccountLimits(parse.GetValue(AccountTasks) ?? parse.GetValue(Concurrency), perMinute) { Window = TimeSpan.FromMinutes(1) * WorldScale(parse, emulator) }
                : null,
            BudgetUsd = parse.GetValue(Budget),
            DailyBudgetUsd = parse.GetValue(DailyBudget),
            ResubmitUnknown = parse.GetValue(ResubmitUnknown),
            WebhookUrl = parse.GetValue(Webhook) is { } hook ? new Uri(hook) : null,
            UnknownOutcomeWait = TimeSpan.FromSeconds(parse.GetValue(UnknownWait)) * WorldScale(parse, emulator),
        };
        if (parse.GetValue(Worker) is { } worker)
        {
            options.WorkerId = worker;
        }

        var results = new List<BatchItemResult>();
        var unreadable = new List<string>();
        var total = 0;
        try
        {
            await foreach (var result in client.RunBatchAsync(Readable(file, unreadable, () => total++, ct), options, null, ct))
            {
                results.Add(result with { Result = null }); // kept for the summary: the image (saved already) is not held for the whole run
                var what = result.Outcome switch
                {
                    BatchOutcome.Completed => $"completed on {result.ModelId}, ${result.CostUsd.ToString(CultureInfo.InvariantCulture)} -> {result.OutputPath}",
                    BatchOutcome.AlreadyCompleted => $"already done ({result.OutputPath})",
                    BatchOutcome.Pending => $"accepted as {ShownId(result.PredictionId)}, not finished: {ForTheCommandLine(result.Error ?? "")} (a re-run resumes it)",
                    BatchOutcome.NotSent => $"not sent, nothing billed: {ForTheCommandLine(result.Error ?? "")} (a re-run sends it)",
                    _ => $"{result.Outcome}: {(result.Error is null ? null : ForTheCommandLine(result.Error))}",
                };
                lock (console)
                {
                    console.WriteLine(Shown($"[{results.Count} done, {total} read] {result.Key}: {what}"));
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            console.MarkupLine("[yellow]Cancelled.[/] Jobs already accepted stay in the journal; run the same command again to collect them.");
            Report(console, results, unreadable);
            return CancelledExitCode;
        }
        finally
        {
            (journal as IDisposable)?.Dispose();
        }

        Report(console, results, unreadable);
        return results.All(r => r.Outcome is BatchOutcome.Completed or BatchOutcome.AlreadyCompleted) && unreadable.Count == 0 ? 0 : FailedExitCode;
    }

    // An emulator at a time scale runs a world in miniature: its "minute" is shorter too.
    private static double WorldScale(ParseResult parse, NanoBanana.Emulator.NanoBananaEmulator? emulator) =>
        emulator is not null || parse.GetResult(EmulatorTimeScale) is { Implicit: false } ? parse.GetValue(EmulatorTimeScale) : 1.0;

    private static async IAsyncEnumerable<BatchJob> Readable(string file, List<string> unreadable, Action counted, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var line in BatchJobFile.ReadAsync(file, ct))
        {
            if (line.Job is { } job)
            {
                counted();
                yield return job;
            }
            else
            {
                unreadable.Add(line.Error!);
            }
        }
    }

    private static void Report(IAnsiConsole console, List<BatchItemResult> results, List<string> unreadable)
    {
        foreach (var line in unreadable)
        {
            console.WriteLine($"skipped {line}");
        }

        var table = new Table().AddColumns("Model", "Size", "Images", "Cost (USD)");
        foreach (var line in BatchSpendLine.Report(results))
        {
            table.AddRow(Markup.Escape(line.ModelId), line.Size.ToString(), line.Images.ToString(CultureInfo.InvariantCulture), line.CostUsd.ToString("0.000", CultureInfo.InvariantCulture));
        }

        console.Write(table);
        var counts = results.GroupBy(r => r.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}");
        console.WriteLine($"{results.Count} jobs: {string.Join(", ", counts)}; spent ${results.Where(r => r.Outcome is BatchOutcome.Completed or BatchOutcome.Pending).Sum(r => r.CostUsd).ToString("0.000", CultureInfo.InvariantCulture)} in this run.");
        if (CliJson.Enabled)
        {
            CliJson.Batch(results, unreadable);
        }
    }
}
