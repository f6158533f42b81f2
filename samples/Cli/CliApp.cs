using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NanoBanana.Emulator;
using NanoBanana.Samples;
using NanoBanana.Polling;
using NanoBanana.Routing;
using Spectre.Console;

namespace NanoBanana.Cli;

/// <summary>The <c>nanobanana</c> command line: route, generate, resume, models, compare.</summary>
public static partial class CliApp
{
    private static readonly Option<string?> ApiKey = new("--api-key") { Description = "API key (default: NANOBANANA_API_KEY; none: use the built-in emulator)" };
    private static readonly Option<string?> BaseUrl = Checked(
        new Option<string?>("--base-url") { Description = "API base URL ending in /api/v3/" },
        v => v is null || (Uri.TryCreate(v, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp))
            ? null
            : $"--base-url '{v}' is not an absolute http(s) URL; give the API root, e.g. https://gptproto.com/api/v3/.");
    private static readonly Option<string[]> StatusAliases = Checked(
        new Option<string[]>("--status-alias") { Description = "Another word for a status, as WORD=STATUS, for a service or relay that does not say the documented ones (e.g. succeeded=completed, error=failed); repeat. STATUS: created, processing, completed, failed, cancelled, timeout or expired", HelpName = "WORD=STATUS" },
        StatusAliasProblem);
    private static readonly Option<double> Deadline = Checked(
        InvariantNumber(new Option<double>("--deadline") { Description = "Seconds a job may take, submit to image, before the wait gives up (the job runs on and can be resumed); default 600", HelpName = "SECONDS", DefaultValueFactory = _ => 600 }),
        v => v > 0 && v <= NanoBananaOptions.MaxDeadline.TotalSeconds ? null : $"--deadline must be above 0 and at most {NanoBananaOptions.MaxDeadline.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds (7 days) (got {v.ToString(CultureInfo.InvariantCulture)}).");
    private static readonly Option<string?> CompletionTimes = new("--completion-times") { Description = "A file in which to keep what waiting learned about completion times between runs, so later runs poll like a warm client from their first job (default: none)" };
    private static readonly Option<ApiProvider> Provider = new("--provider") { Description = "GptProto, GptProtoUnified or WaveSpeed", DefaultValueFactory = _ => ApiProvider.GptProto };
    private static readonly Option<double> EmulatorTimeScale = Checked(
        InvariantNumber(new Option<double>("--emulator-time-scale") { Description = "Time scale of the built-in emulator (used without a key); with --base-url, the time scale of the standalone emulator there, so the client polls to match", DefaultValueFactory = _ => 0.2 }),
        v => TimeScaleProblem("--emulator-time-scale", v));
    private static readonly Option<string> Size = new("--size") { Description = "0.5K, 1K, 2K or 4K", DefaultValueFactory = _ => "1K" };
    private static readonly Option<string> Ratio = new("--ratio") { Description = "Aspect ratio such as 16:9", DefaultValueFactory = _ => "1:1" };
    private static readonly Option<int> Faces = Checked(new Option<int>("--faces") { Description = "Face reference images" }, v => CountProblem("--faces", v));
    private static readonly Option<int> Objects = Checked(new Option<int>("--objects") { Description = "Object reference images" }, v => CountProblem("--objects", v));
    private static readonly Option<int> References = Checked(new Option<int>("--references") { Description = "All reference images (0: faces + objects)" }, v => CountProblem("--references", v));
    private static readonly Option<string[]> Images = new("--image") { Description = "Reference image: an http(s) URL or a local file (uploaded first; needs --provider WaveSpeed or an uploader). Repeat; prefix face: or object: to mark it", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<bool> Typography = new("--typography") { Description = "Typography-critical" };
    private static readonly Option<bool> Complex = new("--complex") { Description = "Complex composition" };
    private static readonly Option<bool> Grounding = new("--grounding") { Description = "Needs image-search grounding" };
    private static readonly Option<bool> Stylized = new("--stylized") { Description = "Stylized / low-stakes" };
    private static readonly Option<RoutingPriority> Priority = new("--priority") { Description = "Balanced, Quality, Cost or Speed" };
    private static readonly Option<decimal?> MaxCost = InvariantAmount(new("--max-cost") { Description = "Cost cap per image in USD" });
    private static readonly Option<ImageTier?> Pin = new("--pin") { Description = "Pin a tier: NanoBanana, NanoBanana2, NanoBananaPro" };
    private static readonly Option<string> Out = new("--out") { Description = "Output folder", DefaultValueFactory = _ => "output" };
    private static readonly Option<string?> Model = new("--model") { Description = "Model id or tier of the prediction" };
    private static readonly Option<string[]> Tiers = new("--tiers") { Description = "Tiers to compare", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["NanoBanana2", "NanoBananaPro"] };
    private static readonly Option<bool> JsonOutput = new("--json") { Description = "Write one JSON object (or array) to stdout for scripts, errors included, instead of text" };
    private static readonly Option<int> EmulatorPort = Checked(
        new Option<int>("--port") { Description = "Port on 127.0.0.1 (0: a free one)", DefaultValueFactory = _ => 5080 },
        v => v is < 0 or > 65535 ? $"--port must be 0-65535 (got {v})." : null);
    private static readonly Option<double> StandaloneTimeScale = Checked(
        InvariantNumber(new Option<double>("--time-scale") { Description = "Latency scale: 1 is real time, 0.1 makes a 4-8 s job take 0.4-0.8 s", DefaultValueFactory = _ => 0.1 }),
        v => TimeScaleProblem("--time-scale", v));
    private static readonly Argument<string> Prompt = new("prompt") { Description = "What to generate" };
    private static readonly Argument<string> Id = new("id") { Description = "Prediction id" };

    /// <summary>The exit code after Ctrl+C (128 + SIGINT), as shells expect.</summary>
    public const int CancelledExitCode = 130;

    /// <summary>The exit code of a usage error: a bad option value, a missing file, a job that breaks a limit (nothing was sent).</summary>
    public const int UsageExitCode = 2;

    /// <summary>The exit code of a job that ran and failed (or was refused by the service).</summary>
    public const int FailedExitCode = 1;

    /// <summary>Runs the command line and returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, IAnsiConsole console) => RunAsync(args, console, CancellationToken.None);

    /// <summary>Runs the command line and returns the exit code; <paramref name="cancellationToken"/> acts like Ctrl+C.</summary>
    public static Task<int> RunAsync(string[] args, IAnsiConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);

        // --json: the JSON goes to the console's own writer, the human text nowhere.
        CliJson.Use(args.Contains("--json") ? console.Profile.Out.Writer : null);
        if (CliJson.Enabled)
        {
            console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        }

        var root = new RootCommand("nanobanana: generate and edit images with Google's Nano Banana models, routed to the right tier.");
        foreach (var option in new Option[] { ApiKey, BaseUrl, Provider, EmulatorTimeScale, CompletionTimes, StatusAliases, Deadline, JsonOutput })
        {
            option.Recursive = true;
            root.Options.Add(option);
        }

        var models = new Command("models", "The model catalog as a table");
        models.SetAction(parse => ShowModels(console, parse));

        var route = new Command("route", "Dry run: which model would run this job, and why");
        AddRequirementOptions(route);
        route.SetAction(parse => Route(console, parse));

        var generate = new Command("generate", "Generate (or edit, with --image) and write the image file");
        generate.Arguments.Add(Prompt);
        AddRequirementOptions(generate);
        generate.Options.Add(Images);
        generate.Options.Add(Out);
        generate.SetAction((parse, ct) => WithClientAsync(console, parse, (client, _) => GenerateAsync(console, client, parse, ct), ct));

        var resume = new Command("resume", "Wait on an existing prediction and write its image");
        resume.Arguments.Add(Id);
        resume.Options.Add(Model);
        resume.Options.Add(Out);
        resume.SetAction((parse, ct) => NeedsAService(parse)
            ? Task.FromResult(Usage(console, "resume needs the service that holds the prediction, and without an API key each command would start a fresh emulator that has never seen it. " +
                "Run `nanobanana emulator` in another terminal and pass its --base-url to both generate and resume, or set NANOBANANA_API_KEY."))
            : WithClientAsync(console, parse, (client, _) => ResumeAsync(console, client, parse, ct), ct));

        var compare = new Command("compare", "The same job on two or three tiers at once: images side by side, latency and cost per tier");
        compare.Arguments.Add(Prompt);
        compare.Options.Add(Size);
        compare.Options.Add(Ratio);
        compare.Options.Add(Tiers);
        compare.Options.Add(Out);
        compare.SetAction((parse, ct) => WithClientAsync(console, parse, (client, emulator) => CompareAsync(console, client, emulator, parse, ct), ct));

        var emulatorCommand = new Command("emulator", "Run the built-in emulator on its own (no key needed) until Ctrl+C, so generate and resume can talk to it from other processes. Port and time scale only: for faults, latency shapes, executionTime, other statuses and the rest, install the nanobanana-emulator tool");
        emulatorCommand.Options.Add(EmulatorPort);
        emulatorCommand.Options.Add(StandaloneTimeScale);
        emulatorCommand.SetAction((parse, ct) => RunEmulatorAsync(console, parse, ct));

        foreach (var command in new[] { models, route, generate, resume, compare, BatchCommand(console), emulatorCommand })
        {
            root.Subcommands.Add(command);
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                console.MarkupLine($"[red]{Markup.Escape(error.Message)}[/]");
            }

            if (CliJson.Enabled)
            {
                CliJson.Error(string.Join(" ", parse.Errors.Select(e => e.Message)), UsageExitCode);
            }

            return Task.FromResult(2);
        }

        return parse.InvokeAsync(null, cancellationToken);
    }

    private static void AddRequirementOptions(Command command)
    {
        foreach (var option in new Option[] { Size, Ratio, Faces, Objects, References, Typography, Complex, Grounding, Stylized, Priority, MaxCost, Pin })
        {
            command.Options.Add(option);
        }
    }

    private static int ShowModels(IAnsiConsole console, ParseResult parse)
    {
        var catalog = new NanoBananaClient(Options(parse, null)).Catalog;
        var table = new Table().AddColumns("Tier", "Id", "Aliases", "Successor", "Retires", "Sizes", "Ratios", "Refs / objects / faces", "Grounding", "Latency", "Price per image");
        foreach (var m in catalog.Models)
        {
            table.AddRow(
                Markup.Escape(m.DisplayName), Markup.Escape(m.Id), Markup.Escape(string.Join(", ", new[] { m.WaveSpeedSlug }.Concat(m.Aliases).Where(a => a != m.Id).Distinct())),
                Markup.Escape(m.SuccessorId ?? "-"), m.RetirementDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-",
                string.Join(" ", m.Sizes), m.AspectRatios.Count.ToString(CultureInfo.InvariantCulture),
                $"{m.MaxReferenceImages} / {m.MaxObjectReferences} / {m.MaxFaceReferences}", m.SupportsImageSearchGrounding ? "yes" : "no",
                $"{m.TypicalLatencyMin.TotalSeconds:0}-{m.TypicalLatencyMax.TotalSeconds:0} s",
                Markup.Escape(string.Join(", ", m.PricesUsd.OrderBy(p => p.Key).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} ${p.Value}")))));
        }

        console.Write(table);
        if (CliJson.Enabled)
        {
            CliJson.Models(catalog);
        }

        return 0;
    }

    private static int Route(IAnsiConsole console, ParseResult parse)
    {
        try
        {
            var decision = TierPolicy.Default.Route(Requirements(parse));
            console.WriteLine(decision.Explain());
            if (CliJson.Enabled)
            {
                CliJson.Decision(decision);
            }

            return 0;
        }
        catch (NoCapableModelException ex)
        {
            return Fail(console, ex.Message, FailedExitCode);
        }
        catch (Exception ex) when (IsUsage(ex))
        {
            return Fail(console, Clean(ex), UsageExitCode);
        }
    }

    private static async Task<int> GenerateAsync(IAnsiConsole console, NanoBananaClient client, ParseResult parse, CancellationToken ct)
    {
        var job = Job(parse, parse.GetValue(Prompt)!);
        var decision = client.Route(job);
        console.WriteLine(decision.Explain());
        var result = await WithProgressAsync(console, $"Generating on {decision.Model.DisplayName}", p => client.GenerateAsync(job, p, ct));
        var path = await SaveAsync(result, parse.GetValue(Out)!, result.Images[0].SuggestFileName(), ct);
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"[green]Wrote[/] {Markup.Escape(path)} ({Markup.Escape(Shown(result.Model.DisplayName))}, {result.Duration.TotalSeconds:0.0} s, ~${result.EstimatedCostUsd}, prediction {Markup.Escape(ShownId(result.PredictionId))})"));
        if (CliJson.Enabled)
        {
            CliJson.Result(result, path);
        }

        return 0;
    }

    private static async Task<int> ResumeAsync(IAnsiConsole console, NanoBananaClient client, ParseResult parse, CancellationToken ct)
    {
        var id = parse.GetValue(Id)!;
        if (parse.GetValue(Model) is { } model && client.Catalog.Find(model) is null)
        {
            // Waited on all the same (the catalog may have changed since the job was accepted); a typo shows here.
            console.MarkupLine($"[yellow]Note:[/] model {Markup.Escape(Shown(model))} is not in the catalog ({Markup.Escape(string.Join(", ", client.Catalog.Models.Select(m => m.Id)))}); waiting all the same, polls timed over every latency the catalog knows.");
        }

        var result = await WithProgressAsync(console, $"Waiting for {ShownId(id)}", _ => client.ResumeAsync(id, parse.GetValue(Model), ct));
        var path = await SaveAsync(result, parse.GetValue(Out)!, result.Images[0].SuggestFileName(), ct);
        console.MarkupLine($"[green]Wrote[/] {Markup.Escape(path)} (prediction {Markup.Escape(ShownId(id))})");
        if (CliJson.Enabled)
        {
            CliJson.Result(result, path);
        }

        return 0;
    }

    private static async Task<int> CompareAsync(IAnsiConsole console, NanoBananaClient client, NanoBananaEmulator? emulator, ParseResult parse, CancellationToken ct)
    {
        var tiers = parse.GetValue(Tiers)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries))
            .Select(t => Enum.TryParse<ImageTier>(t.Trim(), ignoreCase: true, out var tier) && Enum.IsDefined(tier) ? tier
                : throw new UsageException($"--tiers: '{t}' is not a tier. Allowed: {string.Join(", ", Enum.GetNames<ImageTier>())}."))
            .Distinct().ToArray();
        var prompt = parse.GetValue(Prompt)!;
        var outDir = parse.GetValue(Out)!;
        var runs = tiers.Select(async tier =>
        {
            var job = new ImageJob(prompt) { Size = ImageSize.Parse(parse.GetValue(Size)!), AspectRatio = AspectRatio.Parse(parse.GetValue(Ratio)!), PinnedTier = tier };
            var watch = Stopwatch.StartNew();
            var last = "";
            var live = new LiveProgress(p =>
            {
                // One line per status change, as it happens: the table comes at the end.
                var line = string.Create(CultureInfo.InvariantCulture, $"{tier}: {p.Status} ({ShownId(p.PredictionId)}, {p.Elapsed.TotalSeconds:0.0} s, {p.PollCount} {(p.PollCount == 1 ? "poll" : "polls")})");
                lock (console)
                {
                    if (p.Status.Value != last)
                    {
                        last = p.Status.Value;
                        console.WriteLine(line);
                    }
                }
            });
            try
            {
                var result = await client.GenerateAsync(job, live, ct);
                var path = await SaveAsync(result, outDir, $"compare-{tier}.png", ct);
                lock (console)
                {
                    console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tier}: wrote {path} after {watch.Elapsed.TotalSeconds:0.0} s"));
                }

                return (Tier: tier, Result: (ImageResult?)result, Path: path, Error: (string?)null, Elapsed: watch.Elapsed);
            }
            catch (Exception ex) when (ex is NanoBananaException or ArgumentException or ImageNotSavedException)
            {
                lock (console)
                {
                    console.WriteLine($"{tier}: failed: {Shown(Clean(ex))}");
                }

                return (Tier: tier, Result: (ImageResult?)null, Path: "", Error: ex.Message, Elapsed: watch.Elapsed);
            }
            catch (PredictionCanceledException ex) when (ct.IsCancellationRequested)
            {
                // Ctrl+C: every tier that was accepted runs on and is billed, so each says how to collect it (the other
                // tiers' exceptions would otherwise be lost behind the first one).
                var resumeWith = ResumeCommand(parse, ex.PredictionId!, ex.ModelId);
                lock (console)
                {
                    console.WriteLine($"{tier}: cancelled; prediction {ShownId(ex.PredictionId)} runs on and is billed. Resume with: {resumeWith}{EmulatorStopped(emulator)}");
                }

                return (Tier: tier, Result: (ImageResult?)null, Path: "", Error: "cancelled; resume with: " + resumeWith, Elapsed: watch.Elapsed);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return (Tier: tier, Result: (ImageResult?)null, Path: "", Error: "cancelled before anything was sent (nothing billed)", Elapsed: watch.Elapsed);
            }
        }).ToArray();
        var results = await Task.WhenAll(runs);
        var table = new Table().AddColumns("Tier", "Model", "Latency", "Est. cost", "File");
        foreach (var r in results)
        {
            table.AddRow(
                r.Tier.ToString(),
                Markup.Escape(r.Result?.Model.Id ?? "-"),
                string.Create(CultureInfo.InvariantCulture, $"{r.Elapsed.TotalSeconds:0.0} s"),
                r.Result is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"${r.Result.EstimatedCostUsd}"),
                Markup.Escape(r.Error ?? r.Path));
        }

        console.Write(table);
        if (CliJson.Enabled)
        {
            CliJson.Compare(results);
        }

        return ct.IsCancellationRequested ? CancelledExitCode : results.All(r => r.Error is null) ? 0 : 1;
    }

    // The command that collects an accepted prediction, ready to paste into a shell. It reaches the same service: the
    // base URL (scheme, host, port and path only), a provider other than the default, and the time scale of a standalone
    // emulator when one was given. Never the key.
    private static string ResumeCommand(ParseResult parse, string predictionId, string? modelId)
    {
        var command = ResumeHint.Command(predictionId, modelId);
        if (parse.GetValue(BaseUrl) is { } url)
        {
            command += " --base-url " + ResumeHint.ShellWord(new Uri(url).GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped));
            if (parse.GetResult(EmulatorTimeScale) is { Implicit: false })
            {
                command += " --emulator-time-scale " + parse.GetValue(EmulatorTimeScale).ToString(CultureInfo.InvariantCulture);
            }
        }

        if (parse.GetResult(Provider) is { Implicit: false })
        {
            command += " --provider " + parse.GetValue(Provider);
        }

        foreach (var (word, status) in Aliases(parse))
        {
            command += " --status-alias " + ResumeHint.ShellWord($"{word}={status}"); // the words the service says, read as before
        }

        return command;
    }

    private static string EmulatorStopped(NanoBananaEmulator? emulator) =>
        emulator is null ? "" : " (this run used an in-process emulator that has now stopped: resuming needs a real service)";

    private static async Task<int> RunEmulatorAsync(IAnsiConsole console, ParseResult parse, CancellationToken ct)
    {
        var scale = parse.GetValue(StandaloneTimeScale);
        var port = parse.GetValue(EmulatorPort);
        await using var emulator = await NanoBananaEmulator.StartAsync(new EmulatorOptions { Port = port, TimeScale = scale }, ct);
        console.WriteLine($"Emulator listening at {emulator.ApiBaseUrl} (time scale {scale.ToString(CultureInfo.InvariantCulture)}; any non-empty key is accepted).");
        // With --base-url the client polls at real time unless told this emulator's time scale: the suggested command
        // says it, so it polls to match.
        console.WriteLine($"Try: nanobanana generate \"a lighthouse\" --base-url {emulator.ApiBaseUrl} --api-key local-key --emulator-time-scale {scale.ToString(CultureInfo.InvariantCulture)}");
        console.WriteLine("Stop with Ctrl+C.");
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }

        console.WriteLine($"Emulator stopped ({emulator.AcceptedSubmits} {(emulator.AcceptedSubmits == 1 ? "job" : "jobs")} accepted).");
        return 0;
    }

    private static async Task<int> WithClientAsync(IAnsiConsole console, ParseResult parse, Func<NanoBananaClient, NanoBananaEmulator?, Task<int>> run, CancellationToken ct)
    {
        NanoBananaEmulator? emulator = null;
        var key = parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(key) && parse.GetValue(BaseUrl) is null)
        {
            emulator = await NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = parse.GetValue(EmulatorTimeScale) }, ct);
            console.MarkupLine($"[grey]No API key: using the built-in emulator at {emulator.ApiBaseUrl}[/]");
        }

        try
        {
            using var client = new NanoBananaClient(Options(parse, emulator));
            return await run(client, emulator);
        }
        catch (PredictionCanceledException ex)
        {
            // Ctrl+C after the service accepted the job: it runs on and is billed. Say how to collect it.
            var resumeWith = ResumeCommand(parse, ex.PredictionId!, ex.ModelId);
            console.MarkupLine($"[yellow]Cancelled.[/] {Markup.Escape(ex.Message)}");
            console.WriteLine($"Resume with: {resumeWith}{EmulatorStopped(emulator)}");
            if (CliJson.Enabled)
            {
                CliJson.Error(ex.Message, CancelledExitCode, ex.PredictionId, resumeWith);
            }

            return CancelledExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Fail(console, "Cancelled before anything was sent: nothing was accepted, nothing billed.", CancelledExitCode);
        }
        catch (SubmitOutcomeUnknownException ex) when (ct.IsCancellationRequested)
        {
            return Fail(console, "Cancelled while submitting. " + ex.Message, CancelledExitCode);
        }
        catch (ImageNotSavedException ex)
        {
            var resumeWith = ResumeCommand(parse, ex.PredictionId, ex.ModelId) + " --out <a folder you can write>";
            return Fail(console, ex.Message, FailedExitCode, ex.PredictionId, resumeWith + EmulatorStopped(emulator));
        }
        catch (Exception ex) when (IsUsage(ex))
        {
            return Fail(console, Clean(ex), UsageExitCode);
        }
        catch (NanoBananaException ex)
        {
            // A resumed id the service does not know: the same command would fail the same way, so no hint.
            var resumeWith = ex.PredictionId is { } id && ex is not PredictionNotFoundException { WasResumed: true } ? ResumeCommand(parse, id, ex.ModelId) : null;
            return Fail(console, ForTheCommandLine(Clean(ex)), FailedExitCode, ex.PredictionId, resumeWith);
        }
        finally
        {
            if (emulator is not null)
            {
                await emulator.DisposeAsync();
            }
        }
    }

    private static NanoBananaOptions Options(ParseResult parse, NanoBananaEmulator? emulator)
    {
        var options = new NanoBananaOptions { Provider = parse.GetValue(Provider), ApiKey = parse.GetValue(ApiKey) ?? "not-needed-for-the-catalog" };
        if (parse.GetValue(ApiKey) is null && Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable) is { Length: > 0 } env)
        {
            options.ApiKey = env;
        }

        if (parse.GetValue(BaseUrl) is { } url)
        {
            options.BaseUrl = new Uri(url, UriKind.Absolute);

            // A standalone emulator at a time scale: --emulator-time-scale tells the client, so it polls to match.
            if (parse.GetResult(EmulatorTimeScale) is { Implicit: false })
            {
                NanoBananaEmulator.ScaleClient(options, parse.GetValue(EmulatorTimeScale));
            }
        }

        if (emulator is not null)
        {
            options.ApiKey = null;
            emulator.ConfigureClient(options);
        }

        options.Polling.CompletionTimesFile = parse.GetValue(CompletionTimes);
        if (parse.GetResult(Deadline) is { Implicit: false })
        {
            options.Deadline = TimeSpan.FromSeconds(parse.GetValue(Deadline));
        }

        foreach (var (word, status) in Aliases(parse))
        {
            options.StatusAliases[word] = status;
        }

        return options;
    }

    private static JobRequirements Requirements(ParseResult parse) => new()
    {
        Size = ImageSize.Parse(parse.GetValue(Size)!),
        AspectRatio = AspectRatio.Parse(parse.GetValue(Ratio)!),
        FaceCount = parse.GetValue(Faces),
        ObjectCount = parse.GetValue(Objects),
        ReferenceImageCount = parse.GetValue(References),
        TypographyCritical = parse.GetValue(Typography),
        ComplexComposition = parse.GetValue(Complex),
        ImageSearchGrounding = parse.GetValue(Grounding),
        Stylized = parse.GetValue(Stylized),
        Priority = parse.GetValue(Priority),
        MaxCostUsd = parse.GetValue(MaxCost),
        PinnedTier = parse.GetValue(Pin),
    };


    // A job's reference counts come from its images: a count given as an option must agree with them, or the job would
    // be routed differently from what "route" says for the same options.
    private static void Reconcile(string option, int declared, int given, string prefix)
    {
        if (declared > 0 && declared != given)
        {
            throw new UsageException($"{option} {declared} needs {declared} {(prefix.Length == 0 ? "" : prefix.TrimEnd(':') + " ")}images given with --image {prefix}PATH_OR_URL; {given} given. " +
                "Give the images (the counts follow from them), or leave the option out.");
        }
    }

    private static ImageJob Job(ParseResult parse, string prompt)
    {
        var r = Requirements(parse);
        var images = (parse.GetValue(Images) ?? []).Select(text => text switch
        {
            _ when text.StartsWith("face:", StringComparison.OrdinalIgnoreCase) => ReferenceImage.FromUrlOrFile(text[5..], ReferenceKind.Face),
            _ when text.StartsWith("object:", StringComparison.OrdinalIgnoreCase) => ReferenceImage.FromUrlOrFile(text[7..], ReferenceKind.Object),
            _ => ReferenceImage.FromUrlOrFile(text, ReferenceKind.Other),
        }).ToArray();
        Reconcile("--faces", parse.GetValue(Faces), images.Count(i => i.Kind == ReferenceKind.Face), "face:");
        Reconcile("--objects", parse.GetValue(Objects), images.Count(i => i.Kind == ReferenceKind.Object), "object:");
        Reconcile("--references", parse.GetValue(References), images.Length, "");
        return new ImageJob(prompt)
        {
            ReferenceImages = images,
            Size = r.Size,
            AspectRatio = r.AspectRatio,
            TypographyCritical = r.TypographyCritical,
            ComplexComposition = r.ComplexComposition,
            ImageSearchGrounding = r.ImageSearchGrounding,
            Stylized = r.Stylized,
            Priority = r.Priority,
            MaxCostUsd = r.MaxCostUsd,
            PinnedTier = r.PinnedTier,
        };
    }

    // The title is plain text (an id the user pasted, a model's display name), not markup: a '[' or ']' in it would
    // otherwise end the command with Spectre's markup error before anything is waited on.
    private static async Task<ImageResult> WithProgressAsync(IAnsiConsole console, string title, Func<IProgress<GenerationProgress>, Task<ImageResult>> run)
    {
        ImageResult? result = null;
        title = Shown(title);
        await console.Status().StartAsync(Markup.Escape(title), async ctx =>
        {
            var progress = new Progress<GenerationProgress>(p => ctx.Status(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{title}: prediction {ShownId(p.PredictionId)} {p.Status} after {p.Elapsed.TotalSeconds:0.0} s ({p.PollCount} {(p.PollCount == 1 ? "poll" : "polls")})"))));
            result = await run(progress);
        });
        return result!;
    }

    // The name is one path segment (SuggestFileName): a service's id cannot put the file outside the folder. A folder
    // that cannot be written (no permission, a full disk) leaves a paid, completed prediction: say how to collect it.
    private static async Task<string> SaveAsync(ImageResult result, string folder, string name, CancellationToken ct)
    {
        var path = Path.GetFullPath(Path.Combine(folder, name));
        try
        {
            await result.Images[0].SaveAsync(path, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageNotSavedException(result, path, ex);
        }

        return path;
    }

    private static bool NeedsAService(ParseResult parse) =>
        string.IsNullOrWhiteSpace(parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable)) && parse.GetValue(BaseUrl) is null;

    private static int Usage(IAnsiConsole console, string message) => Fail(console, message, UsageExitCode);

    // An option whose values are checked as the command line is parsed: a bad one is a usage error (exit 2) naming the
    // option, before any command runs, whichever command carries it.
    private static Option<T> Checked<T>(Option<T> option, Func<T, string?> problem)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return; // the value could not be read: its parser has already said why (InvariantNumber, InvariantAmount)
            }

            if (problem(value) is { } error)
            {
                result.AddError(error);
            }
        });
        return option;
    }

    // Numbers are read alike in every culture, as the emulator tool reads them: a dot for decimals, no thousands
    // separator. System.CommandLine read them in the current culture: under de-DE "--max-cost 0.09" was a cap of $9 (the
    // dot groups thousands there), and "0,09" was 9 in any culture, the comma read as a thousands separator.
    internal static Option<decimal?> InvariantAmount(Option<decimal?> option)
    {
        option.CustomParser = r => ReadInvariant<decimal>(r, option.Name);
        return option;
    }

    internal static Option<double> InvariantNumber(Option<double> option)
    {
        option.CustomParser = r => ReadInvariant<double>(r, option.Name) ?? option.DefaultValueFactory?.Invoke(r) ?? 0;
        return option;
    }

    private static T? ReadInvariant<T>(System.CommandLine.Parsing.ArgumentResult result, string name)
        where T : struct, System.Numerics.INumber<T>
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[0].Value;
        if (T.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value))
        {
            return value;
        }

        result.AddError($"{name} must be a number with a dot for decimals and no thousands separator, such as 0.15 (got '{Shown(text)}').");
        return null;
    }

    private static string? TimeScaleProblem(string option, double value) =>
        value is > 0 and <= NanoBananaEmulator.MaxTimeScale
            ? null
            : $"{option} must be above 0 and at most {NanoBananaEmulator.MaxTimeScale.ToString(CultureInfo.InvariantCulture)} (got {value.ToString(CultureInfo.InvariantCulture)}).";

    // --status-alias WORD=STATUS, as given (checked by StatusAliasProblem).
    private static IEnumerable<(string Word, string Status)> Aliases(ParseResult parse) =>
        (parse.GetValue(StatusAliases) ?? []).Select(a => a.Split('=', 2)).Select(p => (p[0].Trim(), p[1].Trim()));

    // The library's own check of the aliases, its key names turned into the option's.
    private static string? StatusAliasProblem(string[]? aliases)
    {
        // The library ignores a word's case, so Succeeded=completed and succeeded=failed are one word with two meanings:
        // the later one won without a word.
        var given = new Dictionary<string, (string Alias, string Status)>(StringComparer.OrdinalIgnoreCase);
        foreach (var alias in aliases ?? [])
        {
            var parts = alias.Split('=', 2);
            if (parts.Length != 2 || string.IsNullOrWhiteSpace(parts[0]))
            {
                return $"--status-alias must be WORD=STATUS, e.g. succeeded=completed (got '{alias}').";
            }

            var (word, status) = (parts[0].Trim(), parts[1].Trim());
            if (given.TryGetValue(word, out var earlier) && !string.Equals(earlier.Status, status, StringComparison.OrdinalIgnoreCase))
            {
                return $"--status-alias {earlier.Alias} and --status-alias {alias} give one word two meanings (case is ignored); give it one.";
            }

            given[word] = (alias, status);

            var options = new NanoBananaOptions { ApiKey = "k" };
            options.StatusAliases[word] = status;
            if (options.Validate().FirstOrDefault(e => e.Contains("StatusAliases", StringComparison.Ordinal)) is { } problem)
            {
                return $"--status-alias {alias}" + problem.Replace($"{NanoBananaOptions.SectionName}:StatusAliases:{word}", "", StringComparison.Ordinal);
            }
        }

        return null;
    }

    private static string? CountProblem(string option, int value) => value < 0 ? $"{option} must be 0 or more (got {value})." : null;

    // An error for people (red text, and the resume command when there is a prediction) or for scripts (--json).
    // Text a service chose, made safe to show on a terminal by the library's own rule (SafeText.Printable): control
    // characters (escape sequences, bells, carriage returns) and bidirectional overrides become U+FFFD. Line feeds and
    // tabs stay.
    internal static string Shown(string? text) => NanoBanana.Diagnostics.SafeText.Printable(text ?? "");

    // A prediction id as the library's messages show one (SafeText.Value): as Shown makes it, and on one line (a line
    // break in an id would start a line of the service's choosing), cut in the middle past 256 characters.
    internal static string ShownId(string? id) => NanoBanana.Diagnostics.SafeText.Value(id ?? "");

    private static int Fail(IAnsiConsole console, string message, int exitCode, string? predictionId = null, string? resumeWith = null)
    {
        console.MarkupLine($"[red]{Markup.Escape(Shown(message))}[/]");
        if (resumeWith is not null)
        {
            console.MarkupLine($"Resume with: {Markup.Escape(Shown(resumeWith))}");
        }

        if (CliJson.Enabled)
        {
            CliJson.Error(message, exitCode, predictionId, resumeWith);
        }

        return exitCode;
    }

    private static bool IsUsage(Exception ex) =>
        ex is UsageException or ArgumentException or FormatException or IOException or InvalidDataException && ex is not NanoBananaException;

    // The message without .NET's tails (" (Parameter 'Prompt')", "Actual value was …").
    private static string Clean(Exception ex)
    {
        var text = ex.Message;
        if (ex is ArgumentException { ParamName: { } name })
        {
            text = text.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        }

        var actual = text.IndexOf("\nActual value was", StringComparison.Ordinal);
        return (actual >= 0 ? text[..actual] : text).Replace(Environment.NewLine, " ", StringComparison.Ordinal).Trim();
    }

    // The library names its configuration keys; here the same setting is an option.
    private static string ForTheCommandLine(string message) =>
        message.Replace("under NanoBanana:StatusAliases (for example \"succeeded\": \"completed\")", "with --status-alias (for example --status-alias succeeded=completed)", StringComparison.Ordinal);

    private sealed class UsageException(string message) : Exception(message);

    // A completed prediction whose image could not be written: the id and model to resume it with.
    private sealed class ImageNotSavedException(ImageResult result, string path, Exception inner)
        : Exception($"Prediction {NanoBanana.Diagnostics.SafeText.Value(result.PredictionId)} completed on {result.Model.DisplayName}, but its image could not be written to {path}: {inner.Message}", inner)
    {
        public string PredictionId => result.PredictionId;

        public string ModelId => result.Model.Id;
    }

    // Reports on the caller's thread, at once (Progress<T> would post to a context and could arrive after the table).
    private sealed class LiveProgress(Action<GenerationProgress> report) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => report(value);
    }
}
