using System.Globalization;
using System.Text.Json;
using NanoBanana;
using NanoBanana.Emulator;
using NanoBanana.Routing;
using Spectre.Console;

// TieredBatch: route a JSON-lines file of jobs, run them concurrently with live progress, write the images, and show
// what the routing saved compared with sending everything to Pro ("the Pro reflex") and with the cheapest capable model.
var file = args.FirstOrDefault() ?? Path.Combine(AppContext.BaseDirectory, "jobs.jsonl");
var outputDir = Path.GetFullPath(args.Skip(1).FirstOrDefault() ?? "output/batch");
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };

if (!File.Exists(file))
{
    AnsiConsole.MarkupLine($"[red]No jobs file at {Markup.Escape(file)}.[/] Usage: TieredBatch [[jobs.jsonl]] [[output folder]] (one JSON job per line).");
    return 2;
}

// A line that cannot be read becomes a failed job with its line number; it does not stop the batch.
var jobs = File.ReadLines(file).Select((text, index) => (Line: index + 1, Text: text)).Where(l => !string.IsNullOrWhiteSpace(l.Text))
    .Select(l => ReadJob(l.Line, l.Text)).ToList();
var options = new NanoBananaOptions();
NanoBananaEmulator? emulator = null;
if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable)))
{
    emulator = await NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = 0.2 }, cts.Token);
    emulator.ConfigureClient(options);
    AnsiConsole.MarkupLine($"[grey]No {NanoBananaOptions.ApiKeyEnvironmentVariable}: using the local emulator at {emulator.ApiBaseUrl} (time x0.2)[/]");
}

try
{
    using var client = new NanoBananaClient(options);
    var routed = new List<(ImageJob Job, RoutingDecision? Decision, string? Error)>();
    foreach (var (job, problem) in jobs)
    {
        if (problem is not null)
        {
            routed.Add((job, null, problem));
            continue;
        }

        try
        {
            routed.Add((job, client.Route(job), null));
        }
        catch (Exception ex) when (ex is NoCapableModelException or ArgumentException)
        {
            routed.Add((job, null, ex.Message));
        }
    }

    var results = new ImageResult?[routed.Count];
    var errors = new string?[routed.Count];
    using var gate = new SemaphoreSlim(8);
    await AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new SpinnerColumn(), new ElapsedTimeColumn())
        .StartAsync(async ctx =>
        {
            await Task.WhenAll(routed.Select(async (r, i) =>
            {
                var label = Markup.Escape($"#{i + 1} {Short(r.Job.Prompt)}");
                var task = ctx.AddTask(label, maxValue: 3);
                if (r.Decision is null)
                {
                    errors[i] = r.Error;
                    task.Description = $"[red]{label}: no model[/]";
                    task.Value = 3;
                    return;
                }

                try
                {
                    await gate.WaitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    errors[i] = "cancelled before it was sent (nothing billed)";
                    task.Description = $"[yellow]{label}: not sent[/]";
                    task.Value = 3;
                    return;
                }

                try
                {
                    task.Description = $"{label} [grey]{r.Decision.Model.DisplayName}[/]";
                    var progress = new Progress<NanoBanana.Polling.GenerationProgress>(p => task.Value = p.Status.IsTerminal ? 3 : 2);
                    task.Value = 1;
                    var result = await client.GenerateAsync(r.Job, progress, cts.Token);
                    await result.Images[0].SaveAsync(Path.Combine(outputDir, $"{i + 1:00}-{result.Model.Tier}.png"), cts.Token);
                    results[i] = result;
                    task.Value = 3;
                }
                catch (PredictionCanceledException ex)
                {
                    // Ctrl+C after acceptance: the job runs on and is billed; keep its id to resume it.
                    errors[i] = $"cancelled; resume with: nanobanana resume {ex.PredictionId} --model {ex.ModelId}";
                    task.Description = $"[yellow]{label}: cancelled ({Markup.Escape(ex.PredictionId ?? "")})[/]";
                    task.Value = 3;
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested)
                {
                    errors[i] = "cancelled before it was sent (nothing billed)";
                    task.Description = $"[yellow]{label}: not sent[/]";
                    task.Value = 3;
                }
                catch (NanoBananaException ex)
                {
                    errors[i] = ex.Message;
                    task.Description = $"[red]{label}: failed[/]";
                    task.Value = 3;
                }
                finally
                {
                    gate.Release();
                }
            }));
        });

    var table = new Table().AddColumns("#", "Job", "Routed to", "Cost", "Pro reflex", "Cheapest", "Rule");
    decimal total = 0, proTotal = 0, cheapestTotal = 0;
    var proUnable = 0;
    for (var i = 0; i < routed.Count; i++)
    {
        var (job, decision, error) = routed[i];
        var req = job.ToRequirements();
        var cost = results[i]?.EstimatedCostUsd;
        var readable = jobs[i].Problem is null; // an unreadable line has nothing to price
        var proPrice = readable ? TryRoute(client.Policy, req with { PinnedTier = ImageTier.NanoBananaPro, MaxCostUsd = null })?.EstimatedCostUsd : null;
        var cheapest = readable ? TryRoute(client.Policy, req with { Priority = RoutingPriority.Cost, PinnedTier = null })?.EstimatedCostUsd : null;
        total += cost ?? 0;
        cheapestTotal += cost is null ? 0 : cheapest ?? 0;
        if (cost is not null)
        {
            if (proPrice is { } p)
            {
                proTotal += p;
            }
            else
            {
                proUnable++;
                proTotal += cost.Value; // Pro cannot do it: the job would have needed the routed model anyway
            }
        }

        table.AddRow(
            (i + 1).ToString(CultureInfo.InvariantCulture),
            Markup.Escape(Short(job.Prompt)),
            decision is null ? "[red]none[/]" : Markup.Escape(results[i]?.Model.DisplayName ?? decision.Model.DisplayName) + (results[i] is null ? " [red](failed)[/]" : ""),
            cost is null ? "-" : Usd(cost.Value),
            proPrice is null ? "n/a" : Usd(proPrice.Value),
            cheapest is null ? "-" : Usd(cheapest.Value),
            Markup.Escape(decision is null ? error ?? "" : Rule(decision)));
    }

    AnsiConsole.Write(table);
    var mix = results.Where(r => r is not null).GroupBy(r => r!.Model.DisplayName).Select(g => $"{g.Key} x{g.Count()}");
    AnsiConsole.MarkupLine($"Routing mix: {Markup.Escape(string.Join(", ", mix))}");
    AnsiConsole.MarkupLine($"Total (routed): [bold]{Usd(total)}[/]   Pro reflex: {Usd(proTotal)}{(proUnable > 0 ? $" ({proUnable} job(s) Pro cannot run counted at the routed price)" : "")}   cheapest capable per job: {Usd(cheapestTotal)}");
    if (proTotal > 0)
    {
        AnsiConsole.MarkupLine($"Routing saved {Usd(proTotal - total)} ({(proTotal - total) / proTotal:P0}) against the Pro reflex and spent {Usd(total - cheapestTotal)} above the cheapest capable models, for the quality the routing rules ask for.");
    }

    AnsiConsole.MarkupLine($"Images in {Markup.Escape(outputDir)}; {errors.Count(e => e is not null)} job(s) failed.");
    if (cts.IsCancellationRequested)
    {
        foreach (var line in errors.Where(e => e is not null && e.StartsWith("cancelled; ", StringComparison.Ordinal)))
        {
            AnsiConsole.WriteLine(line!);
        }

        return 130;
    }

    return errors.Any(e => e is not null) ? 1 : 0;
}
finally
{
    if (emulator is not null)
    {
        await emulator.DisposeAsync();
    }
}

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

static string Rule(RoutingDecision d) =>
    d.Basis + (d.Rejected.Count == 0 ? "" : "; ruled out: " + string.Join(", ", d.Rejected.Select(r => r.Model.DisplayName)));

static string Usd(decimal value) => value.ToString("$0.000", CultureInfo.InvariantCulture);

static string Short(string text) => text.Length <= 48 ? text : text[..45] + "...";

static (ImageJob Job, string? Problem) ReadJob(int number, string line)
{
    try
    {
        return (ParseJob(line), null);
    }
    catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or InvalidOperationException)
    {
        var why = ex is ArgumentException { ParamName: { } name } ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
        return (new ImageJob($"(line {number})"), $"line {number}: {why}");
    }
}

static ImageJob ParseJob(string line)
{
    using var doc = JsonDocument.Parse(line);
    var e = doc.RootElement;
    string? S(string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;
    bool B(string name) => e.TryGetProperty(name, out var v) && v.GetBoolean();
    int I(string name) => e.TryGetProperty(name, out var v) ? v.GetInt32() : 0;
    var refs = Enumerable.Range(0, I("faces")).Select(i => ReferenceImage.Face($"https://example.com/refs/face{i}.png"))
        .Concat(Enumerable.Range(0, I("objects")).Select(i => ReferenceImage.Object($"https://example.com/refs/object{i}.png"))).ToArray();
    return new ImageJob(S("prompt") ?? throw new FormatException("the job has no \"prompt\""))
    {
        Size = ImageSize.Parse(S("size") ?? "1K"),
        AspectRatio = AspectRatio.Parse(S("ratio") ?? "1:1"),
        TypographyCritical = B("typography"),
        ComplexComposition = B("complex"),
        Stylized = B("stylized"),
        ImageSearchGrounding = B("grounding"),
        Priority = Enum.Parse<RoutingPriority>(S("priority") ?? "Balanced", ignoreCase: true),
        MaxCostUsd = e.TryGetProperty("maxCost", out var m) ? m.GetDecimal() : null,
        ReferenceImages = refs,
    };
}
