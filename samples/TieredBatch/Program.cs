using System.Globalization;
using NanoBanana;
using NanoBanana.Batch;
using NanoBanana.Emulator;
using NanoBanana.Routing;
using NanoBanana.Samples;
using Spectre.Console;

// TieredBatch: a JSON-lines file of jobs run with the batch API (client.RunBatchAsync): routed per job, within the
// account's limits, journaled in memory, images written as they finish, with live progress. Then a cost table: what
// the routing spent, what sending everything to Pro (the "Pro reflex") would have cost, and the cheapest capable models.
//   dotnet run --project samples/TieredBatch [-- jobs.jsonl [output folder]]
// Piped or redirected output is for scripts and logs: no colour codes, no live progress bar, no wrapping at 80 columns.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Console = PlainConsole.Create(width: 200);
}

var file = args.FirstOrDefault() ?? Path.Combine(AppContext.BaseDirectory, "jobs.jsonl");
var outputDir = Path.GetFullPath(args.Skip(1).FirstOrDefault() ?? "output/batch");
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };

if (!File.Exists(file))
{
    AnsiConsole.MarkupLine($"[red]No jobs file at {Markup.Escape(file)}.[/] Usage: TieredBatch [[jobs.jsonl]] [[output folder]] (one JSON job per line).");
    return 2;
}

// Every line is read first, for the cost table; a line that cannot be read is reported with its number and skipped.
var lines = new List<BatchJobLine>();
await foreach (var line in BatchJobFile.ReadAsync(file, cts.Token))
{
    lines.Add(line);
}

foreach (var unreadable in lines.Where(l => l.Job is null))
{
    AnsiConsole.WriteLine($"skipped {unreadable.Error}");
}

var options = new NanoBananaOptions();
await using var emulator = string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable))
    ? await NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = 0.2 }, cts.Token)
    : null;
if (emulator is not null)
{
    emulator.ConfigureClient(options);
    AnsiConsole.MarkupLine($"[grey]No {NanoBananaOptions.ApiKeyEnvironmentVariable}: using the local emulator at {emulator.ApiBaseUrl} (time x0.2)[/]");
}

if (!Settings.Check(options))
{
    return Settings.ErrorExitCode;
}

using var client = new NanoBananaClient(options);
var jobs = lines.Where(l => l.Job is not null).Select(l => l.Job!).ToList();
var results = new Dictionary<string, BatchItemResult>(StringComparer.Ordinal);
var cancelled = false;
await AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .StartAsync(async ctx =>
    {
        var bar = ctx.AddTask($"{jobs.Count} jobs", maxValue: Math.Max(1, jobs.Count));
        var batch = new BatchOptions { MaxConcurrency = 8, OutputDirectory = outputDir };
        var progress = new Progress<BatchProgress>(p => bar.Description = $"{p.Completed} done, {p.Failed} failed, {p.InFlight} in flight, ${p.SpentUsd.ToString("0.000", CultureInfo.InvariantCulture)}");
        try
        {
            await foreach (var result in client.RunBatchAsync(jobs, batch, progress, cts.Token))
            {
                results[result.Key] = result;
                bar.Increment(1);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            cancelled = true;
        }
    });

var table = new Table().AddColumns("Line", "Job", "Routed to", "Cost", "Pro reflex", "Cheapest", "Result");
decimal total = 0, proTotal = 0, cheapestTotal = 0;
foreach (var line in lines)
{
    if (line.Job is not { } job)
    {
        table.AddRow(line.Line.ToString(CultureInfo.InvariantCulture), "-", "[red]unreadable[/]", "-", "-", "-", Markup.Escape(line.Error!));
        continue;
    }

    var result = results.GetValueOrDefault(job.Key);
    var requirements = job.Job.ToRequirements();
    var proPrice = TryRoute(client.Policy, requirements with { PinnedTier = ImageTier.NanoBananaPro, MaxCostUsd = null })?.EstimatedCostUsd;
    var cheapest = TryRoute(client.Policy, requirements with { Priority = RoutingPriority.Cost, PinnedTier = null })?.EstimatedCostUsd;
    var spent = result?.Outcome is BatchOutcome.Completed or BatchOutcome.Pending ? result.CostUsd : (decimal?)null;
    if (spent is { } s)
    {
        total += s;
        proTotal += proPrice ?? s; // a job Pro cannot do would have needed the routed model anyway
        cheapestTotal += cheapest ?? s;
    }

    table.AddRow(
        line.Line.ToString(CultureInfo.InvariantCulture),
        Markup.Escape(Short(job.Job.Prompt)),
        Markup.Escape(result?.ModelId ?? "-"),
        spent is null ? "-" : Usd(spent.Value),
        proPrice is null ? "n/a" : Usd(proPrice.Value),
        cheapest is null ? "-" : Usd(cheapest.Value),
        Markup.Escape(result is null ? "not run" : result.Outcome == BatchOutcome.Completed ? Path.GetFileName(result.OutputPath ?? "") : $"{result.Outcome}: {result.Error}"));
}

AnsiConsole.Write(table);
AnsiConsole.MarkupLine($"Routing mix: {Markup.Escape(string.Join(", ", BatchSpendLine.Report(results.Values).Select(l => $"{l.ModelId} {l.Size} x{l.Images}")))}");
AnsiConsole.MarkupLine($"Total (routed): [bold]{Usd(total)}[/]   Pro reflex: {Usd(proTotal)}   cheapest capable per job: {Usd(cheapestTotal)}");
if (proTotal > 0)
{
    AnsiConsole.MarkupLine($"Routing saved {Usd(proTotal - total)} ({((proTotal - total) / proTotal).ToString("0%", CultureInfo.InvariantCulture)}) against the Pro reflex and spent {Usd(total - cheapestTotal)} above the cheapest capable models, for the quality the routing rules ask for.");
}

var failed = results.Values.Count(r => r.Outcome is not (BatchOutcome.Completed or BatchOutcome.AlreadyCompleted)) + lines.Count(l => l.Job is null);
AnsiConsole.MarkupLine($"Images in {Markup.Escape(outputDir)}; {(failed == 0 ? "every job has its image" : failed == 1 ? "1 job without an image" : $"{failed} jobs without an image")}.");
if (cancelled)
{
    // Accepted jobs keep running and are billed: print their ids so they can be collected.
    foreach (var pending in results.Values.Where(r => r.Outcome == BatchOutcome.Pending))
    {
        // An id a shell takes as it is gets the CLI command; any other the C# call, with the id as an exact literal.
        var id = pending.PredictionId ?? "";
        AnsiConsole.WriteLine($"cancelled; resume with: {ResumeHint.Command(id, pending.ModelId)}");
    }

    return 130;
}

return failed > 0 ? 1 : 0;

static RoutingDecision? TryRoute(ITierPolicy policy, JobRequirements requirements)
{
    try
    {
        return policy.Route(requirements);
    }
    catch (NoCapableModelException)
    {
        return null;
    }
}

static string Usd(decimal value) => value.ToString("$0.000", CultureInfo.InvariantCulture);

static string Short(string text) => text.Length <= 48 ? text : text[..45] + "...";
