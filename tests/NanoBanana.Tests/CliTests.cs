using NanoBanana.Cli;
using NanoBanana.Emulator;
using Spectre.Console;

namespace NanoBanana.Tests;

/// <summary>The nanobanana CLI end to end against the emulator.</summary>
public class CliTests
{
    private static (IAnsiConsole Console, StringWriter Output) TestConsole()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 2000; // no wrapping inside a line the tests read (a shown id alone may be 256 characters)
        return (console, writer);
    }

    // The options that point the CLI at an emulator, with its time scale, so the client polls a job of a few
    // milliseconds as such instead of at the catalog's real seconds.
    private static string[] At(NanoBananaEmulator emulator, double timeScale = 0.001) =>
        ["--base-url", emulator.ApiBaseUrl.ToString(), "--api-key", Emu.Key, "--emulator-time-scale", timeScale.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    [Fact]
    public async Task Route_explains_the_decision_and_fails_clearly_when_nothing_fits()
    {
        var (console, output) = TestConsole();
        Assert.Equal(0, await CliApp.RunAsync(["route", "--ratio", "1:8", "--typography"], console));
        Assert.Contains("Chosen: Nano Banana 2", output.ToString());
        Assert.Contains("Nano Banana Pro would be preferred", output.ToString());

        var (console2, output2) = TestConsole();
        Assert.Equal(1, await CliApp.RunAsync(["route", "--faces", "5", "--grounding"], console2));
        var text = string.Join(" ", output2.ToString().Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Nano Banana 2: 5 face references exceed its limit of 4", text);
    }

    [Fact]
    public async Task Options_that_disagree_or_are_unknown_are_usage_errors_that_name_the_option()
    {
        var (console, output) = TestConsole();
        Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["generate", "x", "--faces", "5", "--api-key", "k", "--base-url", "http://127.0.0.1:9/api/v3/"], console));
        Assert.Contains("--faces 5 needs 5 face images", output.ToString());

        var (console2, output2) = TestConsole();
        Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["compare", "x", "--tiers", "Foo", "--api-key", "k", "--base-url", "http://127.0.0.1:9/api/v3/"], console2));
        Assert.Contains("--tiers: 'Foo' is not a tier. Allowed: NanoBanana, NanoBanana2, NanoBananaPro", output2.ToString());

        var (console3, output3) = TestConsole();
        Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["route", "--ratio", "7:3"], console3));
        Assert.DoesNotContain("(Parameter", output3.ToString());

        var (console4, output4) = TestConsole();
        Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["resume", "some-id"], console4));
        Assert.Contains("nanobanana emulator", output4.ToString());
    }

    [Theory]
    [InlineData("models --base-url gptproto.com", "--base-url 'gptproto.com' is not an absolute http(s) URL; give the API root, e.g. https://gptproto.com/api/v3/.")]
    [InlineData("generate x --api-key k --base-url gptproto.com/api/v3", "--base-url 'gptproto.com/api/v3' is not an absolute http(s) URL")]
    [InlineData("generate x --emulator-time-scale 0", "--emulator-time-scale must be above 0 and at most 1000 (got 0).")]
    [InlineData("route --emulator-time-scale 1e300", "--emulator-time-scale must be above 0 and at most 1000 (got 1E+300).")]
    [InlineData("generate x --faces -1", "--faces must be 0 or more (got -1).")]
    [InlineData("route --references -3", "--references must be 0 or more (got -3).")]
    [InlineData("batch jobs.jsonl --unknown-wait 1e300", "--unknown-wait must be 0 to 604800 seconds (7 days) (got 1E+300).")]
    [InlineData("batch jobs.jsonl --concurrency 0", "--concurrency must be at least 1 (got 0).")]
    [InlineData("batch jobs.jsonl --per-minute -5", "--per-minute must be at least 1 (got -5).")]
    [InlineData("batch jobs.jsonl --account-tasks 0", "--account-tasks must be at least 1 (got 0).")]
    [InlineData("batch jobs.jsonl --daily-budget -0.5", "--daily-budget must be above 0 (USD) (got -0.5).")]
    [InlineData("batch jobs.jsonl --webhook ftp://hooks.example.com/nb", "--webhook must be an absolute https URL (http only on a loopback host) (got 'ftp://hooks.example.com/nb').")]
    [InlineData("emulator --time-scale 5000", "--time-scale must be above 0 and at most 1000 (got 5000).")]
    [InlineData("emulator --port 70000", "--port must be 0-65535 (got 70000).")]
    [InlineData("generate x --status-alias succeeded", "--status-alias must be WORD=STATUS, e.g. succeeded=completed (got 'succeeded').")]
    [InlineData("route --status-alias succeeded=done", "--status-alias succeeded=done must be one of cancelled, completed, created, expired, failed, processing, timeout (got 'done').")]
    [InlineData("generate x --status-alias Succeeded=completed --status-alias SUCCEEDED=failed", "--status-alias Succeeded=completed and --status-alias SUCCEEDED=failed give one word two meanings (case is ignored); give it one.")]
    [InlineData("generate x --status-alias completed=failed", "--status-alias completed=failed: 'completed' is one of the SDK's own statuses and cannot be given another meaning.")]
    [InlineData("generate x --deadline 0", "--deadline must be above 0 and at most 604800 seconds (7 days) (got 0).")]
    public async Task Out_of_range_option_values_are_usage_errors_naming_the_option_before_anything_runs(string args, string expected)
    {
        // Before: a stack trace (models), .NET's "Invalid URI", "timeScale ('0') must be greater than '0'", an
        // OverflowException, or (--faces -1) a job that ran as if the option were not given.
        var (console, output) = TestConsole();
        Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(args.Split(' '), console));
        var text = output.ToString();
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("emulator at", text, StringComparison.Ordinal); // nothing started
    }

    [Theory]
    [InlineData("de-DE")] // the dot groups thousands, the comma is the decimal separator
    [InlineData("fr-FR")]
    [InlineData("en-US")]
    public async Task Numbers_on_the_command_line_mean_the_same_in_every_culture(string culture)
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo(culture);
        try
        {
            // A cap of $0.09 is a cap of $0.09: under de-DE it was read as $9, and Nano Banana 2 ($0.101 at 2K) was chosen.
            var (console, output) = TestConsole();
            Assert.Equal(1, await CliApp.RunAsync(["route", "--size", "2K", "--max-cost", "0.09"], console));
            Assert.Contains("exceeds the cost cap of $0.09", output.ToString(), StringComparison.Ordinal);

            // A comma is refused, naming the option, in every culture: it was read as a thousands separator ($9).
            foreach (var args in new[] { "route --max-cost 0,09", "batch jobs.jsonl --budget 1,5", "batch jobs.jsonl --daily-budget 2,0", "route --emulator-time-scale 0,5", "batch jobs.jsonl --unknown-wait 1,5", "emulator --time-scale 0,1" })
            {
                var (c, o) = TestConsole();
                Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(args.Split(' '), c));
                var name = args.Split(' ').First(a => a.StartsWith("--", StringComparison.Ordinal));
                Assert.Contains($"{name} must be a number with a dot for decimals and no thousands separator", o.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public async Task A_batch_webhook_must_be_https_and_needs_WaveSpeed()
    {
        var jobs = Path.GetTempFileName();
        try
        {
            File.WriteAllText(jobs, "{\"key\": \"a\", \"prompt\": \"x\"}\n");
            var (console, output) = TestConsole();
            Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["batch", jobs, "--provider", "WaveSpeed", "--webhook", "http://hooks.example.com/nb", "--api-key", "k", "--base-url", "http://127.0.0.1:9/api/v3/"], console));
            Assert.Contains("--webhook must be an absolute https URL (http only on a loopback host) (got 'http://hooks.example.com/nb')", output.ToString());

            var (console2, output2) = TestConsole();
            Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["batch", jobs, "--webhook", "https://hooks.example.com/nb", "--api-key", "k", "--base-url", "http://127.0.0.1:9/api/v3/"], console2));
            Assert.Contains("--webhook needs --provider WaveSpeed", output2.ToString());
        }
        finally
        {
            File.Delete(jobs);
        }
    }

    [Fact]
    public async Task A_batch_journal_that_cannot_be_opened_is_a_usage_error_without_a_stack_trace()
    {
        using var folder = new TempFolder("nb-cli-journal-");
        var jobs = Path.Combine(folder.FullName, "jobs.jsonl");
        File.WriteAllText(jobs, "{\"key\": \"a\", \"prompt\": \"x\"}\n");
        var journal = Path.Combine(jobs, "batch.db"); // under a file: no folder can be made there
        var (console, output) = TestConsole();
        Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["batch", jobs, "--journal", journal, "--api-key", "k", "--base-url", "http://127.0.0.1:9/api/v3/"], console));
        Assert.Contains($"The batch journal at '{journal}' cannot be opened", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_is_one_parseable_document_per_command_errors_included()
    {
        var (console, output) = TestConsole();
        Assert.Equal(0, await CliApp.RunAsync(["models", "--json"], console));
        using (var models = System.Text.Json.JsonDocument.Parse(output.ToString()))
        {
            Assert.Equal(3, models.RootElement.GetArrayLength());
            Assert.Equal("gemini-3-pro-image", models.RootElement[2].GetProperty("successorId").GetString());
        }

        var (console2, output2) = TestConsole();
        Assert.Equal(0, await CliApp.RunAsync(["route", "--typography", "--size", "2K", "--json"], console2));
        using (var route = System.Text.Json.JsonDocument.Parse(output2.ToString()))
        {
            Assert.Equal("NanoBananaPro", route.RootElement.GetProperty("tier").GetString());
            Assert.True(route.RootElement.GetProperty("reasons").GetArrayLength() > 0);
        }

        await using var emulator = await Emu.StartAsync();
        using var temp = new TempFolder("nanobanana-cli-");
        var outDir = Path.Combine(temp.FullName, "out");
        var (console3, output3) = TestConsole();
        Assert.Equal(0, await CliApp.RunAsync(["generate", "a lamp", "--json", "--out", outDir, .. At(emulator)], console3));
        using var generated = System.Text.Json.JsonDocument.Parse(output3.ToString()); // nothing but the JSON on stdout
        Assert.True(File.Exists(generated.RootElement.GetProperty("file").GetString()));
        Assert.Equal(emulator.Jobs.Single().Id, generated.RootElement.GetProperty("predictionId").GetString());

        var (console4, output4) = TestConsole();
        Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["generate", "x", "--faces", "2", "--json", "--api-key", "k", "--base-url", "http://127.0.0.1:9/api/v3/"], console4));
        using var error = System.Text.Json.JsonDocument.Parse(output4.ToString());
        Assert.Equal(2, error.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Contains("--faces 2", error.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Compare_reports_each_tier_as_it_goes_then_the_table()
    {
        await using var emulator = await Emu.StartAsync();
        using var temp = new TempFolder("nanobanana-cli-");
        var outDir = Path.Combine(temp.FullName, "out");
        var (console, output) = TestConsole();
        Assert.Equal(0, await CliApp.RunAsync(["compare", "a lighthouse", "--tiers", "NanoBanana2", "NanoBanana", "--out", outDir, .. At(emulator)], console));
        var text = output.ToString();
        var table = text.IndexOf("Est. cost", StringComparison.Ordinal);
        Assert.True(table > 0, text);
        foreach (var tier in new[] { "NanoBanana2", "NanoBanana" })
        {
            var accepted = text.IndexOf($"{tier}: ", StringComparison.Ordinal); // its first status line, with the prediction id
            var wrote = text.IndexOf($"{tier}: wrote", StringComparison.Ordinal);
            Assert.True(accepted >= 0 && accepted < wrote && wrote < table, text);
        }
    }

    [Fact]
    public async Task A_standalone_emulator_serves_generate_and_resume_from_separate_invocations()
    {
        var (console, output) = TestConsole();
        using var stop = new CancellationTokenSource();
        var running = CliApp.RunAsync(["emulator", "--port", "0", "--time-scale", "0.001"], console, stop.Token);
        string? baseUrl = null;
        for (var i = 0; i < 500 && baseUrl is null; i++)
        {
            await Task.Delay(20);
            baseUrl = System.Text.RegularExpressions.Regex.Match(output.ToString(), @"listening at (\S+)") is { Success: true } m ? m.Groups[1].Value : null;
        }

        Assert.NotNull(baseUrl);

        // The command it suggests is the one used: its options, with the time scale that lets the client poll to match.
        var suggested = $"Try: nanobanana generate \"a lighthouse\" --base-url {baseUrl} --api-key local-key --emulator-time-scale 0.001";
        Assert.Contains(suggested, output.ToString(), StringComparison.Ordinal);
        string[] options = ["--base-url", baseUrl!, "--api-key", "local-key", "--emulator-time-scale", "0.001"];
        using var temp = new TempFolder("nanobanana-cli-");
        var outDir = Path.Combine(temp.FullName, "out");
        var (c1, o1) = TestConsole();
        Assert.True(await CliApp.RunAsync(["generate", "a lighthouse", .. options, "--out", outDir], c1) == 0, o1.ToString());
        var id = System.Text.RegularExpressions.Regex.Match(o1.ToString(), @"prediction (\S+?)\)").Groups[1].Value;
        var (c2, o2) = TestConsole();
        Assert.True(await CliApp.RunAsync(["resume", id, .. options, "--out", outDir], c2) == 0, o2.ToString());

        await stop.CancelAsync();
        Assert.Equal(0, await running.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Emulator stopped (1 job accepted)", output.ToString());
    }

    [Fact]
    public async Task Models_shows_ids_aliases_successors_and_retirement_dates()
    {
        var (console, output) = TestConsole();
        console.Profile.Width = 400;
        Assert.Equal(0, await CliApp.RunAsync(["models"], console));
        var lines = output.ToString().Split('\n');
        Assert.Contains(lines, l => l.Contains("Aliases") && l.Contains("Successor") && l.Contains("Retires"));
        Assert.Contains(lines, l => l.Contains("gemini-3-pro-image-preview") && l.Contains("nano-banana-pro") && l.Contains("gemini-3-pro-image ") && l.Contains("2026-06-25"));
        Assert.Contains(lines, l => l.Contains("gemini-3.1-flash-image-preview") && l.Contains("gemini-3.1-flash-image ") && l.Contains("2026-06-25"));
        Assert.Contains(lines, l => l.Contains("gemini-2.5-flash-image") && l.Contains("nano-banana") && l.Contains("2026-10-02"));
    }

    // A service chooses the prediction id; the file named after it stays in --out whatever the id says.
    [Theory]
    [InlineData("../../[bold]escaped, not markup[/\u001b]0;title\u0007")]
    [InlineData("/tmp/nanobanana-rooted-")]
    public async Task Generate_keeps_the_image_in_the_output_folder_whatever_the_services_id_says(string idPrefix)
    {
        using var temp = new TempFolder("nanobanana-cli-");
        var root = temp.FullName;
        var outDir = Path.Combine(root, "a", "b", "out");
        var rooted = Directory.GetFiles(Path.GetTempPath(), "nanobanana-rooted-*").Length;
        await using var emulator = await Emu.StartAsync(o => o.IdPrefix = idPrefix);
        var (console, output) = TestConsole();
        var code = await CliApp.RunAsync(["generate", "a lamp", "--out", outDir, .. At(emulator)], console);
        Assert.True(code == 0, output.ToString());
        var id = emulator.Jobs.Single().Id;
        Assert.StartsWith(idPrefix, id, StringComparison.Ordinal);
        Assert.Contains("prediction " + CliApp.Shown(id), output.ToString(), StringComparison.Ordinal); // printed as text, never read as markup
        Assert.DoesNotContain(output.ToString(), c => c is '\u001b' or '\u0007'); // nor as a terminal's escape sequence

        // Exactly one file was written under root, and it is directly in outDir.
        var file = Assert.Single(Directory.GetFiles(root, "*", SearchOption.AllDirectories));
        Assert.Equal(Path.GetFullPath(outDir), Path.GetDirectoryName(file));
        Assert.EndsWith(".png", file, StringComparison.Ordinal);
        Assert.Equal(rooted, Directory.GetFiles(Path.GetTempPath(), "nanobanana-rooted-*").Length);
    }

    [Theory]
    [InlineData("2b9a360d9", "2b9a360d9")]
    [InlineData("sora-2:task/abc", "sora-2:task/abc")]
    [InlineData("x; rm -rf ~", "'x; rm -rf ~'")]
    [InlineData("it's $(id)", "'it'\\''s $(id)'")]
    [InlineData("a\u001b]0;x\u0007\nb", @"$'a\x1b]0;x\x07\x0ab'")]
    [InlineData("it's\\\r", @"$'it\'s\\\x0d'")]
    [InlineData("\u202Egnp", @"$'\xe2\x80\xaegnp'")]
    public void A_resume_command_quotes_an_id_a_shell_would_read(string id, string expected) => Assert.Equal(expected, NanoBanana.Samples.ResumeHint.ShellWord(id));

    // The words of a printed command as a shell splits them: bash where there is one (it reads $'…' and '…' as a user
    // who pastes the command would); elsewhere spaces, as the ids of the default emulator need no quoting.
    private static async Task<string[]> ShellWordsAsync(string command)
    {
        if (!File.Exists("/bin/bash"))
        {
            return command.Split(' ');
        }

        return System.Text.Encoding.UTF8.GetString(await BashAsync("printf '%s\\0' " + command)).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    // What bash writes to stdout for a script, as bytes; in the C locale, since the quoting under test writes bytes.
    private static async Task<byte[]> BashAsync(string script)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["LC_ALL"] = "C";
        using var bash = System.Diagnostics.Process.Start(start)!;
        using var bytes = new MemoryStream();
        await bash.StandardOutput.BaseStream.CopyToAsync(bytes);
        await bash.WaitForExitAsync();
        return bytes.ToArray();
    }

    [BashFact]
    public async Task A_quoted_id_is_printable_and_bash_reads_it_back_exactly()
    {
        // The hint must not act on the terminal that shows it (no control characters, no bidirectional override) and,
        // pasted, must give the id back byte for byte: the only way to collect a paid job whose id holds such characters.
        string[] ids = [Soak.EmulatorWorlds.HostileIdPrefix + "7", "x; rm -rf ~", "it's $(id)", "tab\there", "é-\U0001F34C-\u0000-end", "plain-1"];
        foreach (var id in ids)
        {
            var word = NanoBanana.Samples.ResumeHint.ShellWord(id);
            Assert.All(word, c => Assert.InRange(c, ' ', '~'));
            var expected = id.Contains('\0', StringComparison.Ordinal) ? id[..id.IndexOf('\0', StringComparison.Ordinal)] : id; // a shell word ends at NUL
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(expected), await BashAsync("printf %s " + word));
        }
    }

    [Fact]
    public void The_samples_resume_hint_is_the_clis_command_for_any_id()
    {
        // One rule for the CLI and the samples (samples/Shared/ResumeHint.cs): an id a shell would read is quoted, not
        // left out (the samples used to print no command for such an id).
        Assert.Equal("nanobanana resume 'x; rm -rf ~' --model gemini-2.5-flash-image", NanoBanana.Samples.ResumeHint.Command("x; rm -rf ~", "gemini-2.5-flash-image"));
        Assert.Equal("nanobanana resume 2b9a360d9", NanoBanana.Samples.ResumeHint.Command("2b9a360d9", null));
    }

    [Fact]
    public async Task Generate_and_resume_write_real_pngs_against_the_emulator()
    {
        await using var emulator = await Emu.StartAsync();
        using var temp = new TempFolder("nanobanana-cli-");
        var outDir = Path.Combine(temp.FullName, "out");
        var (console, output) = TestConsole();
        var code = await CliApp.RunAsync(["generate", "a jazz poster", "--size", "2K", "--ratio", "3:4", "--typography", "--out", outDir, .. At(emulator)], console);
        Assert.True(code == 0, output.ToString());
        var file = Assert.Single(Directory.GetFiles(outDir, "*.png"));
        Assert.Equal((1792, 2400), PngWriter.ReadSize(File.ReadAllBytes(file)));
        Assert.Contains("Nano Banana Pro", output.ToString());

        var id = emulator.Jobs.Single().Id;
        File.Delete(file);
        var (console2, output2) = TestConsole();
        var resumeCode = await CliApp.RunAsync(["resume", id, "--model", "NanoBananaPro", "--out", outDir, .. At(emulator)], console2);
        Assert.True(resumeCode == 0, output2.ToString());
        var resumed = Assert.Single(Directory.GetFiles(outDir, "*.png")); // named after the id, made safe for a file name
        Assert.Contains(Path.GetFileName(resumed), output2.ToString(), StringComparison.Ordinal);
        Assert.Equal((1792, 2400), PngWriter.ReadSize(File.ReadAllBytes(resumed)));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_hostile_status_starts_no_line_of_its_own_in_the_output_of_compare()
    {
        // compare prints a line per status change; the status is the service's text.
        await using var emulator = await Emu.StartAsync();
        var status = System.Text.Json.JsonSerializer.Serialize("running\nFAKE: paid twice\u001b[2J");
        for (var i = 0; i < 2; i++)
        {
            emulator.EnqueueReply(new EmulatorReply(200, "{\"data\":{\"id\":\"%ID%\",\"status\":" + status + "}}"), FaultTarget.Poll);
        }

        using var temp = new TempFolder("nb-cli-status-");
        var outDir = temp.FullName;
        var (console, output) = TestConsole();
        var code = await CliApp.RunAsync(["compare", "a fox", "--tiers", "NanoBanana,NanoBanana2", "--out", outDir, .. At(emulator)], console);
        var text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("running", text, StringComparison.Ordinal); // the status was shown
        Assert.DoesNotContain(text.Split('\n'), l => l.TrimStart().StartsWith("fake", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain('\u001b', text);
    }

    [Fact]
    public async Task A_batch_on_a_revoked_key_sends_one_submit_says_the_rest_were_not_sent_and_a_rerun_sends_them()
    {
        await using var emulator = await Emu.StartAsync();
        using var temp = new TempFolder("nb-cli-revoked-");
        var dir = temp.FullName;
        var jobs = Path.Combine(dir, "jobs.jsonl");
        await File.WriteAllLinesAsync(jobs, Enumerable.Range(1, 4).Select(i => $"{{\"key\":\"sku-{i}\",\"prompt\":\"a lamp {i}\"}}"));
        var db = Path.Combine(dir, "batch.db");
        emulator.Options.ApiKey = "sk-the-account-moved-on-0000"; // the CLI's key is revoked

        string[] batch = ["batch", jobs, "--journal", db, "--out", dir, "--concurrency", "1", .. At(emulator)];
        var (console, output) = TestConsole();
        var code = await CliApp.RunAsync(batch, console);
        var text = output.ToString();
        Assert.NotEqual(0, code);
        Assert.Equal(4, text.Split('\n').Count(l => l.Contains("not sent, nothing billed", StringComparison.Ordinal) && l.Contains("(a re-run sends it)", StringComparison.Ordinal)));
        Assert.Contains("NotSent 4", text, StringComparison.Ordinal);
        Assert.Equal(1, emulator.Count("submit"));
        var entries = await new NanoBanana.Journal.Sqlite.SqlitePredictionJournal(db, "jobs").ReadAsync();
        Assert.All(entries, e => Assert.Equal((NanoBanana.Batch.JournalState.Claimed, 0m), (e.State, e.ChargeUsd)));

        emulator.Options.ApiKey = Emu.Key; // a working key again
        (console, output) = TestConsole();
        code = await CliApp.RunAsync(batch, console);
        Assert.True(code == 0, output.ToString());
        Assert.Equal(4, emulator.AcceptedSubmits);
        Assert.Equal(4, Directory.GetFiles(dir, "sku-*.png").Length);
    }

    [Fact]
    public async Task A_batch_job_left_pending_shows_its_id_on_one_line()
    {
        // A job a journal holds as accepted under an id the service no longer knows stays pending, and batch prints
        // "accepted as <id>": the service chose that id, so a line break in it must not start a line of its own.
        await using var emulator = await Emu.StartAsync();
        using var temp = new TempFolder("nb-cli-pending-");
        var dir = temp.FullName;
        var jobs = Path.Combine(dir, "jobs.jsonl");
        await File.WriteAllTextAsync(jobs, "{\"key\":\"sku-1\",\"prompt\":\"a lamp\"}\n");
        var db = Path.Combine(dir, "batch.db");
        var journal = new NanoBanana.Journal.Sqlite.SqlitePredictionJournal(db, "jobs");
        Assert.Equal(NanoBanana.Batch.JournalClaim.Submit, (await journal.ClaimAsync("sku-1", "earlier-run", TimeSpan.FromMilliseconds(1))).Claim);
        Assert.True(await journal.BeginSubmitAsync("sku-1", "earlier-run", 0.039m, null, null, DateOnly.FromDateTime(DateTime.UtcNow)));
        await journal.AcceptedAsync("sku-1", "gone-7\nFAKE: all paid", "gemini-2.5-flash-image", 0.039m);
        await Task.Delay(20); // that run's lease is over

        var (console, output) = TestConsole();
        await CliApp.RunAsync(["batch", jobs, "--journal", db, "--out", dir, .. At(emulator)], console);
        var text = output.ToString();
        Assert.Contains("accepted as gone-7\uFFFDFAKE: all paid", text, StringComparison.Ordinal);
        Assert.DoesNotContain(text.Split('\n'), l => l.StartsWith("FAKE", StringComparison.Ordinal));
        Assert.Equal(0, emulator.Count("submit"));
    }

    [Fact]
    public async Task Resuming_an_id_with_brackets_and_control_characters_writes_the_image_and_prints_it_safely()
    {
        // Spectre reads '[' and ']' as markup: "Waiting for <id>" used to end resume with exit code 1 and no output
        // before it polled at all, and "Wrote … (prediction <id>)" printed the id's escape sequence to the terminal and
        // its line break, which starts a line of the service's choosing.
        await using var emulator = await Emu.StartAsync(o => o.IdPrefix = "job[7]\u001b]0;owned\u0007\nFAKE: paid twice-");
        using var client = Emu.Client(emulator);
        var accepted = await client.StartGenerationAsync(new ImageJob("a lamp"));
        using var temp = new TempFolder("nb-cli-brackets-");
        var folder = temp.FullName;
        var (console, output) = TestConsole();
        var code = await CliApp.RunAsync(["resume", accepted.Id, "--model", accepted.Model.Id, "--out", folder, .. At(emulator)], console);
        var text = output.ToString();
        Assert.True(code == 0, $"exit code {code}: {text}");
        Assert.Single(Directory.GetFiles(folder, "*.png"));
        Assert.Contains("prediction job[7]\uFFFD]0;owned\uFFFD\uFFFDFAKE: paid twice-", text, StringComparison.Ordinal);
        Assert.DoesNotContain(text.Split('\n'), l => l.StartsWith("FAKE", StringComparison.Ordinal));
        Assert.DoesNotContain(text, c => c is '\u001b' or '\u0007');
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Resuming_an_id_the_service_does_not_know_says_why_and_offers_no_resume_that_would_fail_again()
    {
        await using var emulator = await Emu.StartAsync();
        var (console, output) = TestConsole();
        Assert.Equal(CliApp.FailedExitCode, await CliApp.RunAsync(["resume", "gone-7", "--model", "NanoBananaPro", .. At(emulator)], console));
        var text = output.ToString();
        Assert.Contains("does not know prediction gone-7", text, StringComparison.Ordinal);
        Assert.Contains("expired", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Resume with", text, StringComparison.Ordinal);
        Assert.Equal(0, emulator.Count("submit"));
    }

    [Fact]
    public async Task Resuming_with_a_model_the_catalog_does_not_know_collects_the_image_and_says_so()
    {
        // It was a usage error ("Unknown model"); a catalog changed since the job was accepted must not block it.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var accepted = await client.StartGenerationAsync(new ImageJob("a lamp"));
        using var temp = new TempFolder("nb-cli-model-");
        var folder = Path.Combine(temp.FullName, "out");
        var (console, output) = TestConsole();
        Assert.Equal(0, await CliApp.RunAsync(["resume", accepted.Id, "--model", "gemini-3.1-flash-image-previw", "--out", folder, .. At(emulator)], console));
        var text = output.ToString();
        Assert.Contains("model gemini-3.1-flash-image-previw is not in the catalog", text, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(folder, "*.png"));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task An_output_folder_that_cannot_be_written_prints_the_completed_id_and_a_resume_that_collects_it()
    {
        await using var emulator = await Emu.StartAsync();
        using var temp = new TempFolder("nb-cli-unwritable-");
        var root = temp.FullName;
        var blocker = Path.Combine(root, "a-file");
        await File.WriteAllTextAsync(blocker, "not a folder");
        var (console, output) = TestConsole();
        var code = await CliApp.RunAsync(["generate", "a lamp", "--out", Path.Combine(blocker, "out"), .. At(emulator)], console);

        var job = emulator.Jobs.Single();
        var text = output.ToString();
        Assert.True(code == CliApp.FailedExitCode, text);
        Assert.Contains($"Prediction {Diagnostics.SafeText.Value(job.Id)} completed", text, StringComparison.Ordinal);
        // The command reaches the same service: without --base-url it would go to gptproto.com (or, keyless, refuse).
        var suggested = text.Split('\n').Single(l => l.StartsWith("Resume with: ", StringComparison.Ordinal))["Resume with: ".Length..].Trim();
        Assert.Equal($"{NanoBanana.Samples.ResumeHint.Command(job.Id, job.Model.Id)} --base-url {emulator.ApiBaseUrl} --emulator-time-scale 0.001 --out <a folder you can write>", suggested);

        // The resume it suggests, run as printed (the key comes from the user's environment), collects the paid
        // image without a second submit.
        var (console2, output2) = TestConsole();
        var good = Path.Combine(root, "good");
        string[] args = [.. (await ShellWordsAsync(suggested.Replace("<a folder you can write>", good, StringComparison.Ordinal))).Skip(1), "--api-key", Emu.Key];
        Assert.True(await CliApp.RunAsync(args, console2) == 0, output2.ToString());
        Assert.Single(Directory.GetFiles(good, "*.png"));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_relays_word_for_done_ends_at_the_deadline_with_the_option_to_map_it_and_a_resume_with_it_collects_the_image()
    {
        await using var emulator = await Emu.StartAsync(o => o.CompletedStatus = "succeeded");
        using var temp = new TempFolder("nb-cli-alias-");
        var root = temp.FullName;
        var (console, output) = TestConsole();
        var code = await CliApp.RunAsync(["generate", "a lamp", "--deadline", "1", "--out", root, .. At(emulator)], console);
        var text = output.ToString();
        Assert.True(code == CliApp.FailedExitCode, text);
        Assert.Contains("does not know the status 'succeeded'", text, StringComparison.Ordinal);
        Assert.Contains("with --status-alias (for example --status-alias succeeded=completed)", text, StringComparison.Ordinal);
        var suggested = text.Split('\n').Single(l => l.StartsWith("Resume with: ", StringComparison.Ordinal))["Resume with: ".Length..].Trim();

        // The resume it suggests, with the alias added, collects the paid image without a second submit.
        var (console2, output2) = TestConsole();
        string[] args = [.. (await ShellWordsAsync(suggested)).Skip(1), "--api-key", Emu.Key, "--out", root, "--status-alias", "succeeded=completed"];
        Assert.True(await CliApp.RunAsync(args, console2) == 0, output2.ToString());
        Assert.Single(Directory.GetFiles(root, "*.png"));
        Assert.Equal(1, emulator.AcceptedSubmits);

        // Given on a run that cannot save its image, the alias travels in the resume command it prints.
        var blocker = Path.Combine(root, "a-file");
        await File.WriteAllTextAsync(blocker, "not a folder");
        var (console3, output3) = TestConsole();
        Assert.Equal(CliApp.FailedExitCode, await CliApp.RunAsync(["generate", "a chair", "--out", Path.Combine(blocker, "out"), "--status-alias", "succeeded=completed", .. At(emulator)], console3));
        Assert.Contains(" --status-alias succeeded=completed --out <a folder you can write>", output3.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_whose_jobs_met_a_relays_word_for_done_collects_them_when_run_again_with_the_alias()
    {
        // The journal keeps the accepted ids of jobs whose wait ended at the deadline; the same command with the alias
        // resumes them to their images, and nothing is submitted twice.
        await using var emulator = await Emu.StartAsync(o => o.CompletedStatus = "succeeded");
        using var temp = new TempFolder("nb-cli-batch-alias-");
        var jobs = Path.Combine(temp.FullName, "jobs.jsonl");
        await File.WriteAllTextAsync(jobs, "{\"key\":\"sku-1\",\"prompt\":\"a lamp\"}\n{\"key\":\"sku-2\",\"prompt\":\"a chair\"}\n");
        string[] batch = ["batch", jobs, "--journal", Path.Combine(temp.FullName, "batch.db"), "--out", Path.Combine(temp.FullName, "out"), .. At(emulator)];

        var (console, output) = TestConsole();
        var code = await CliApp.RunAsync([.. batch, "--deadline", "1"], console);
        var text = output.ToString();
        Assert.True(code != 0, text);
        Assert.Contains("does not know the status 'succeeded'", text, StringComparison.Ordinal);
        Assert.Contains("with --status-alias (for example --status-alias succeeded=completed)", text, StringComparison.Ordinal); // the option, not the configuration key
        Assert.Contains("(a re-run resumes it)", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(temp.FullName, "out")) && Directory.GetFiles(Path.Combine(temp.FullName, "out"), "*.png").Length > 0, text);

        var (console2, output2) = TestConsole();
        Assert.True(await CliApp.RunAsync([.. batch, "--status-alias", "succeeded=completed"], console2) == 0, output2.ToString());
        Assert.Equal(2, Directory.GetFiles(Path.Combine(temp.FullName, "out"), "*.png").Length);
        Assert.Equal(2, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Ctrl_C_after_acceptance_prints_the_id_and_the_resume_command_and_exits_130()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.01);
        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit); // still running when Ctrl+C comes
        using var temp = new TempFolder("nanobanana-cli-");
        var outDir = Path.Combine(temp.FullName, "out");
        var (console, output) = TestConsole();
        using var ctrlC = new CancellationTokenSource();
        var run = CliApp.RunAsync(["generate", "a fox", "--out", outDir, .. At(emulator)], console, ctrlC.Token);
        while (emulator.Count("poll") == 0 && !run.IsCompleted) // a poll means the client holds the id
        {
            await Task.Delay(5);
        }

        ctrlC.Cancel();
        var code = await run.WaitAsync(TimeSpan.FromSeconds(60));
        var job = emulator.Jobs.Single();
        var text = output.ToString();
        Assert.True(code == CliApp.CancelledExitCode, text);
        Assert.True(text.Contains(NanoBanana.Samples.ResumeHint.Command(job.Id, job.Model.Id), StringComparison.Ordinal), text);
        Assert.False(Directory.Exists(outDir) && Directory.GetFiles(outDir).Length > 0);
    }

    [Fact]
    public async Task Ctrl_C_during_compare_prints_every_accepted_tiers_resume_command_and_exits_130()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.01);
        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit, count: 3); // all three still running at Ctrl+C
        using var temp = new TempFolder("nanobanana-cli-");
        var outDir = Path.Combine(temp.FullName, "out");
        var (console, output) = TestConsole();
        using var ctrlC = new CancellationTokenSource();
        var run = CliApp.RunAsync(["compare", "a fox", "--tiers", "NanoBanana,NanoBanana2,NanoBananaPro", "--out", outDir, .. At(emulator)], console, ctrlC.Token);
        while (emulator.Requests.Where(r => r.Kind == "poll").Select(r => r.PredictionId).Distinct().Count() < 3 && !run.IsCompleted)
        {
            await Task.Delay(5); // a poll of each job means the client holds all three ids
        }

        ctrlC.Cancel();
        var code = await run.WaitAsync(TimeSpan.FromSeconds(60));
        var text = output.ToString();
        Assert.True(code == CliApp.CancelledExitCode, text);
        Assert.Equal(3, emulator.Jobs.Count);
        foreach (var job in emulator.Jobs)
        {
            Assert.True(text.Contains($"Resume with: {NanoBanana.Samples.ResumeHint.Command(job.Id, job.Model.Id)}", StringComparison.Ordinal), text);
        }

        Assert.DoesNotContain("nothing was accepted", text, StringComparison.Ordinal);
        Assert.Equal(3, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Completion_times_kept_in_a_file_carry_over_to_the_next_run()
    {
        await using var emulator = await Emu.StartAsync();
        using var temp = new TempFolder("nb-cli-times-");
        var dir = temp.FullName;
        var file = Path.Combine(dir, "times.json");
        string[] args = ["generate", "a lamp", "--pin", "NanoBanana", "--out", dir, .. At(emulator), "--completion-times", file];
        for (var run = 1; run <= 2; run++)
        {
            var (console, output) = TestConsole();
            Assert.True(await CliApp.RunAsync(args, console) == 0, output.ToString());
            var saved = await Polling.CompletionTimesFile.ReadAsync(File.OpenRead(file), CancellationToken.None);
            Assert.Equal(run, saved.Models.Single().Waits.Length); // the second run loaded the first's and added its own
        }

        Assert.DoesNotContain(Emu.Key, await File.ReadAllTextAsync(file));
    }
}
