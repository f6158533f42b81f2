using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using NanoBanana.Diagnostics;
using NanoBanana.Emulator;
using NanoBanana.Polling;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

/// <summary>
/// Issue 9 over real loopback HTTP: every numbered way a hostile or faulty server could lose a paid prediction, hang,
/// exhaust memory or leak the key. Timeouts here are liveness guards (a hang fails the test), never speed claims.
/// </summary>
public class HostileServerTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    // 1. Cancelling after acceptance keeps the id; the job resumes by it.
    [Fact]
    public async Task Cancel_after_acceptance_throws_a_cancellation_with_the_id_and_the_job_resumes_to_an_image()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.05); // NB2: 200–400 ms
        using var client = Emu.Client(emulator);
        using var cts = new CancellationTokenSource();
        string? reportedId = null;
        var progress = new SyncProgress<GenerationProgress>(p =>
        {
            reportedId ??= p.PredictionId;
            cts.Cancel();
        });

        var ex = await Assert.ThrowsAsync<PredictionCanceledException>(() => client.GenerateAsync(new ImageJob("a fox"), progress, cts.Token).WaitAsync(Guard));
        Assert.IsAssignableFrom<OperationCanceledException>(ex);
        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.NotNull(ex.PredictionId);
        Assert.Equal(reportedId, ex.PredictionId); // progress told the id before anything finished
        Assert.Equal(emulator.Jobs.Single().Id, ex.PredictionId);
        Assert.Equal(emulator.Jobs.Single().Model.Id, ex.ModelId);
        Assert.Contains("ResumeAsync", ex.Message);

        var resumed = await client.ResumeAsync(ex.PredictionId!, ex.ModelId).WaitAsync(Guard);
        Assert.Equal(ex.PredictionId, resumed.PredictionId);
        Assert.NotEmpty(await resumed.Images[0].GetBytesAsync());
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Sync_submit_cancelled_after_sending_is_an_unknown_outcome_and_before_sending_a_plain_cancellation()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.2); // NB2 sync answer after 0.8–1.6 s
        using var client = Emu.Client(emulator);
        using var cts = new CancellationTokenSource();
        var run = client.GenerateAsync(new ImageJob("a heron") { UseSyncMode = true }, cts.Token);
        while (emulator.AcceptedSubmits == 0)
        {
            await Task.Delay(5);
        }

        cts.Cancel();
        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => run.WaitAsync(Guard));
        Assert.Contains("cancelled after the request was sent", ex.Message);
        Assert.Equal(1, emulator.AcceptedSubmits);

        emulator.ClearLog();
        var before = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GenerateAsync(new ImageJob("a heron"), new CancellationToken(canceled: true)));
        Assert.IsNotType<PredictionCanceledException>(before);
        Assert.DoesNotContain(emulator.Requests, r => r.Kind == "submit");
    }

    // 2. ResumeAsync: one deadline, one retry discipline.
    [Fact]
    public async Task Resume_survives_an_unreadable_first_answer()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        emulator.EnqueueFault(FaultKind.MalformedJson, FaultTarget.Poll);
        var result = await client.ResumeAsync(operation.Id, operation.Model.Id).WaitAsync(Guard);
        Assert.Equal(operation.Id, result.PredictionId);
    }

    [Fact]
    public async Task Resume_keeps_its_deadline_when_every_poll_drips()
    {
        await using var emulator = await Emu.StartAsync(o => o.DripInterval = TimeSpan.FromMilliseconds(200));
        using var client = Emu.Client(emulator, o =>
        {
            // Twelve attempt timeouts long: a loaded machine still gets a second poll to the server well inside it.
            // (At seven, 2.8 s, a clean-clone CI run saw a single poll reach the server: the whole suite runs in
            // parallel, and timers fire late on a busy thread pool.)
            o.Deadline = TimeSpan.FromSeconds(5);
            o.Retry.AttemptTimeout = TimeSpan.FromMilliseconds(400);
        });
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        emulator.EnqueueFault(FaultKind.DripBody, FaultTarget.Poll, count: 1000);
        var ex = await Assert.ThrowsAsync<PredictionTimeoutException>(() => client.ResumeAsync(operation.Id, operation.Model.Id).WaitAsync(Guard));
        Assert.Equal(operation.Id, ex.PredictionId);
        var polls = emulator.Count("poll");
        Assert.True(polls >= 2, $"the dripping polls were cut off and retried: {polls} poll(s) reached the server; {ex.Message}");
    }

    [Fact]
    public async Task Resuming_an_id_the_service_does_not_know_ends_in_a_typed_not_found_that_says_why()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Polling.MinInterval = TimeSpan.FromMilliseconds(10));
        var ex = await Assert.ThrowsAsync<PredictionNotFoundException>(() => client.ResumeAsync("expired-42", "gemini-3-pro-image-preview").WaitAsync(Guard));
        Assert.Equal("expired-42", ex.PredictionId);
        Assert.Equal("gemini-3-pro-image-preview", ex.ModelId);
        Assert.True(ex.WasResumed);
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("prediction not found", ex.ProviderMessage);
        Assert.Contains("does not know prediction expired-42: 4 polls in a row answered 404", ex.Message, StringComparison.Ordinal);
        Assert.Contains("expired", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Resume later", ex.Message, StringComparison.Ordinal);
        Assert.Equal(new PollingOptions().MaxConsecutivePollFailures + 1, emulator.Count("poll")); // retried, then given up: bounded
        Assert.Equal(0, emulator.Count("submit"));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task A_dot_id_is_refused_before_any_request_since_no_escaping_keeps_it_in_the_poll_route(string id)
    {
        // System.Uri removes dot segments, %2E included: ".." polled GET /api/v3/result.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.ResumeAsync(id));
        Assert.Contains($"'{id}' cannot be a prediction id", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => client.GetOperation(id));
        await Assert.ThrowsAsync<ArgumentException>(() => client.Protocol.GetPredictionAsync(id));
        Assert.Empty(emulator.Requests);

        // Any other id stays one segment of the poll route.
        await Assert.ThrowsAsync<PredictionNotFoundException>(() => client.ResumeAsync("../x").WaitAsync(Guard));
        Assert.All(emulator.Requests, r => Assert.Matches("^/api/v3/predictions/[^/]+/result$", r.Path));
    }

    [Fact]
    public async Task A_new_job_whose_first_polls_answer_404_is_waited_on_to_its_image()
    {
        // A relay that is slow to learn new ids: the retries ride it out, and the job is neither lost nor sent again.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Polling.MinInterval = TimeSpan.FromMilliseconds(10));
        for (var i = 0; i < new PollingOptions().MaxConsecutivePollFailures; i++)
        {
            emulator.EnqueueReply(new EmulatorReply(404, "Prediction not found", "text/plain"), FaultTarget.Poll);
        }

        var result = await client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard);
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task The_emulator_keeps_a_bounded_number_of_predictions_and_a_dropped_one_is_not_found()
    {
        await using var emulator = await Emu.StartAsync(o => o.MaxRetainedJobs = 3);
        using var client = Emu.Client(emulator, o => o.Polling.MinInterval = TimeSpan.FromMilliseconds(10));
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await client.GenerateAsync(new ImageJob($"a lamp {i}")).WaitAsync(Guard)).PredictionId); // each done before the next
        }

        Assert.Equal(5, emulator.AcceptedSubmits);
        Assert.Equal(ids.Skip(2), emulator.Jobs.OrderBy(j => j.CreatedTimestamp).Select(j => j.Id)); // the oldest two dropped
        var ex = await Assert.ThrowsAsync<PredictionNotFoundException>(() => client.ResumeAsync(ids[0]).WaitAsync(Guard));
        Assert.Equal(ids[0], ex.PredictionId);
        Assert.Equal(ids[4], (await client.ResumeAsync(ids[4]).WaitAsync(Guard)).PredictionId);
    }

    [Fact]
    public async Task An_output_url_that_has_expired_is_unavailable_with_the_id_and_says_how_to_get_it_again()
    {
        await using var emulator = await Emu.StartAsync(o => o.MaxRetainedJobs = 1);
        using var client = Emu.Client(emulator);
        var first = await client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard);
        await client.GenerateAsync(new ImageJob("another lamp")).WaitAsync(Guard); // the first prediction and its output expire
        var ex = await Assert.ThrowsAsync<OutputUnavailableException>(() => first.Images[0].GetBytesAsync().WaitAsync(Guard));
        Assert.Equal(first.PredictionId, ex.PredictionId);
        Assert.Equal(first.Model.Id, ex.ModelId);
        Assert.Contains("404", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Output URLs expire: if the prediction is still kept, resuming it by id (client.ResumeAsync) gets its URLs again.", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task The_emulator_never_drops_a_running_prediction_to_keep_its_bound()
    {
        await using var emulator = await Emu.StartAsync(o => o.MaxRetainedJobs = 1);
        using var client = Emu.Client(emulator, o => o.Polling.MinInterval = TimeSpan.FromMilliseconds(10));
        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit);
        var running = await client.StartGenerationAsync(new ImageJob("a lamp that never ends"));
        await client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard);
        await client.GenerateAsync(new ImageJob("another lamp")).WaitAsync(Guard);
        Assert.NotNull(emulator.GetJob(running.Id)); // still running: kept, over the bound
        Assert.Equal(new PredictionStatus(emulator.Options.RunningStatus), await running.UpdateStatusAsync().WaitAsync(Guard));
    }

    // 3. The attempt timeout covers the body; downloads have their own.
    [Fact]
    public async Task A_dripping_poll_body_is_cut_off_by_the_attempt_timeout_and_retried()
    {
        await using var emulator = await Emu.StartAsync(o => o.DripInterval = TimeSpan.FromMilliseconds(300));
        using var client = Emu.Client(emulator, o => o.Retry.AttemptTimeout = TimeSpan.FromMilliseconds(500));
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        await Task.Delay(50);
        emulator.EnqueueFault(FaultKind.DripBody, FaultTarget.Poll);
        var status = await operation.UpdateStatusAsync().WaitAsync(Guard);
        Assert.Equal(PredictionStatus.Completed, status);
        Assert.Equal(2, emulator.Count("poll"));
    }

    [Fact]
    public async Task A_dripping_download_ends_at_the_download_timeout_with_the_id_and_leaves_no_file()
    {
        await using var emulator = await Emu.StartAsync(o => o.DripInterval = TimeSpan.FromMilliseconds(100));
        using var client = Emu.Client(emulator, o => o.Limits.DownloadTimeout = TimeSpan.FromSeconds(1));
        emulator.EnqueueFault(FaultKind.DripOutput, FaultTarget.Submit);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        var path = Path.Combine(Path.GetTempPath(), "nb-drip-" + Guid.NewGuid().ToString("N") + ".png");
        var ex = await Assert.ThrowsAsync<OutputUnavailableException>(() => result.Images[0].SaveAsync(path).WaitAsync(Guard));
        Assert.Equal(result.PredictionId, ex.PredictionId);
        Assert.Contains("DownloadTimeout", ex.Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"));
    }

    [Fact]
    public async Task Saving_over_a_symbolic_link_replaces_the_file_it_names_and_a_kernel_tree_is_refused()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        using var dir = new TempFolder("nb-save-");
        // The rename that keeps a failed download from leaving a partial file used to replace the link itself.
        var real = Path.Combine(dir.FullName, "real.png");
        File.WriteAllText(real, "old");
        var link = Path.Combine(dir.FullName, "latest.png");
        File.CreateSymbolicLink(link, real);
        await result.Images[0].SaveAsync(link);
        Assert.Equal(real, new FileInfo(link).LinkTarget);
        Assert.Equal("PNG", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(real), 1, 3));

        var folder = await Assert.ThrowsAsync<IOException>(() => result.Images[0].SaveAsync(dir.FullName));
        Assert.Contains("is a folder", folder.Message, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            // Under /proc nothing can be created anyway, so this cannot harm the machine even on a regressed build;
            // /dev (where the rename replaced /dev/null) is checked without writing in CompletionTimesTests.
            var proc = await Assert.ThrowsAsync<IOException>(() => result.Images[0].SaveAsync("/proc/self/nb-image.png"));
            Assert.Contains("is under /proc, a tree of devices and kernel files", proc.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_download_cancelled_by_the_caller_carries_the_id_of_the_completed_prediction()
    {
        await using var emulator = await Emu.StartAsync(o => o.DripInterval = TimeSpan.FromMilliseconds(100));
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.DripOutput, FaultTarget.Submit);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var ex = await Assert.ThrowsAsync<PredictionCanceledException>(() => result.Images[0].GetBytesAsync(cts.Token).WaitAsync(Guard));
        Assert.Equal(result.PredictionId, ex.PredictionId);
        Assert.Equal(cts.Token, ex.CancellationToken);
    }

    // 4. Memory is bounded: JSON bodies, inline images, downloads.
    [Fact]
    public async Task An_oversized_poll_body_is_a_typed_error_with_the_id()
    {
        await using var emulator = await Emu.StartAsync(o => o.OversizedBodyBytes = 8_000_000);
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.OversizedBody, FaultTarget.Poll);
        var ex = await Assert.ThrowsAsync<ResponseLimitExceededException>(() => client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard));
        Assert.Equal(emulator.Jobs.Single().Id, ex.PredictionId);
        Assert.Equal(emulator.Jobs.Single().Model.Id, ex.ModelId);
        Assert.Equal(new LimitOptions().MaxJsonBytes, ex.Limit);
        Assert.Contains("MaxJsonBytes", ex.LimitName);
    }

    [Fact]
    public async Task An_inline_image_over_the_limit_is_refused_before_decoding_with_the_id()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Limits.MaxImageBytes = 2048);
        var ex = await Assert.ThrowsAsync<ResponseLimitExceededException>(() => client.GenerateAsync(new ImageJob("a lamp") { Base64Output = true }).WaitAsync(Guard));
        Assert.Equal(emulator.Jobs.Single().Id, ex.PredictionId);
        Assert.Equal(2048, ex.Limit);
        Assert.Equal(1, emulator.AcceptedSubmits); // completed and billed: never resubmitted
    }

    [Fact]
    public async Task A_huge_download_stops_at_the_image_limit_with_the_id_and_leaves_no_file()
    {
        await using var emulator = await Emu.StartAsync(o => o.HugeOutputBytes = 8L * 1024 * 1024);
        using var client = Emu.Client(emulator, o => o.Limits.MaxImageBytes = 1024 * 1024);
        emulator.EnqueueFault(FaultKind.HugeOutput, FaultTarget.Submit);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        var path = Path.Combine(Path.GetTempPath(), "nb-huge-" + Guid.NewGuid().ToString("N") + ".png");
        var ex = await Assert.ThrowsAsync<ResponseLimitExceededException>(() => result.Images[0].SaveAsync(path).WaitAsync(Guard));
        Assert.Equal(result.PredictionId, ex.PredictionId);
        Assert.Equal("NanoBanana:Limits:MaxImageBytes", ex.LimitName);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Numbers_no_clock_can_hold_in_every_answer_about_a_job_are_read_as_absent_and_the_image_arrives()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.AbsurdNumbers, FaultTarget.Submit);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        var job = emulator.Jobs.Single();
        Assert.Equal(job.Id, result.PredictionId);
        Assert.Null(result.ServerExecutionTime);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());

        // What the wait saw is learned as an interval, not as the absurd report.
        var observation = Assert.Single(client.LatencyStatistics.Observations(job.Model));
        Assert.True(observation.Upper > observation.Lower);
    }

    [Theory]
    [InlineData("2b9a360d9", 0, "2b9a360d9.png")]
    [InlineData("2b9a360d9", 2, "2b9a360d9-2.png")]
    [InlineData("../../etc/cron.d/x", 0, null)]
    [InlineData("/etc/passwd", 0, null)]
    [InlineData("..", 0, null)]
    [InlineData("C:\\Windows\\x", 0, null)]
    [InlineData("sora-2:task/abc", 0, null)]
    [InlineData("line\nbreak\u0000nul", 0, null)]
    [InlineData("trailing.", 0, null)]
    public void A_suggested_file_name_is_one_path_segment_whatever_the_id(string id, int index, string? expected)
    {
        var name = new GeneratedImage(null, "https://cdn.example/x.png", false, null, id, index).SuggestFileName();
        if (expected is not null)
        {
            Assert.Equal(expected, name); // an id that is already a safe name is kept as it is
        }

        Assert.EndsWith(".png", name, StringComparison.Ordinal);
        Assert.DoesNotContain('/', name);
        Assert.DoesNotContain('\\', name);
        Assert.DoesNotContain(':', name);
        Assert.DoesNotContain(name, c => c < ' ');
        Assert.NotEqual("..png", name);
        var folder = Path.Combine(Path.GetTempPath(), "out");
        Assert.Equal(folder, Path.GetDirectoryName(Path.GetFullPath(Path.Combine(folder, name))));
    }

    [Fact]
    public void Suggested_file_names_of_distinct_ids_stay_distinct_and_long_ids_are_cut()
    {
        string Name(string id) => new GeneratedImage(null, "https://cdn.example/x.png", false, null, id).SuggestFileName("p-", ".jpg");
        Assert.NotEqual(Name("a/b"), Name("a:b")); // both become a_b, told apart by the hash
        Assert.StartsWith("p-a_b-", Name("a/b"), StringComparison.Ordinal);
        Assert.True(Name(new string('x', 5000)).Length < 120);

        // The bound is on bytes: a long id of three- and four-byte characters still names a file that can be written.
        using var temp = new TempFolder("nb-names-");
        var folder = temp.FullName;
        foreach (var id in new[] { new string('画', 300), string.Concat(Enumerable.Repeat("🍌", 200)), "a" + new string('画', 99) })
        {
            var name = Name(id);
            Assert.True(System.Text.Encoding.UTF8.GetByteCount(name) <= 120, $"{name.Length} characters, {System.Text.Encoding.UTF8.GetByteCount(name)} bytes");
            Assert.False(char.IsHighSurrogate(name[^13]), "a surrogate pair was split"); // the character before "-hash.jpg"
            File.WriteAllBytes(Path.Combine(folder, name), [1]);
        }
        Assert.Throws<ArgumentException>(() => new GeneratedImage(null, "https://cdn.example/x.png", false, null, "id").SuggestFileName(extension: "/../x"));
        Assert.Equal("image", new GeneratedImage(null, "https://cdn.example/x.png", false, null).SuggestFileName(extension: ""));
    }

    [Fact]
    public async Task A_hostile_prediction_id_reaches_messages_and_log_lines_on_one_line_and_bounded()
    {
        // An escape sequence, a line break, a right-to-left override and 5,000 characters: the id of every job.
        var nasty = "x\u001b[2J\ny\u202E" + new string('a', 5000);
        // Jobs run 30 s (real-time equivalent) at 1/20: a 1 s deadline passes while they run, whatever the machine's load.
        await using var emulator = await Emu.StartAsync(o => { o.IdPrefix = nasty; o.LatencySampler = (_, _) => 30; }, timeScale: 0.05);
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, o => o.Deadline = TimeSpan.FromSeconds(1), loggers: logs);
        var timeout = await Assert.ThrowsAsync<PredictionTimeoutException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        using var cts = new CancellationTokenSource();
        using var patient = Emu.Client(emulator, loggers: logs);
        var cancelOnAcceptance = new SyncProgress<Polling.GenerationProgress>(_ => cts.Cancel()); // the first report carries the id
        var canceled = await Assert.ThrowsAsync<PredictionCanceledException>(() => patient.GenerateAsync(new ImageJob("a lamp"), cancelOnAcceptance, cts.Token));

        foreach (var (id, text) in new[] { (timeout.PredictionId, timeout.Message), (canceled.PredictionId, canceled.Message), (timeout.PredictionId, timeout.ToString()) })
        {
            Assert.StartsWith(nasty, id, StringComparison.Ordinal); // the property keeps the exact id
            Assert.DoesNotContain('\u001b', text);
            Assert.DoesNotContain('\u202E', text);
            Assert.DoesNotContain(new string('a', 300), text, StringComparison.Ordinal); // shown ids are cut to 256 characters
            Assert.Contains("client.ResumeAsync(exception.PredictionId", text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain('\n', timeout.Message);
        var lines = logs.Entries.Where(e => e.Category.StartsWith("NanoBanana", StringComparison.Ordinal)).Select(e => e.Message).ToArray();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.True(!l.Contains(new string('a', 300), StringComparison.Ordinal) && !l.Contains('\n', StringComparison.Ordinal) && !l.Contains('\u001b', StringComparison.Ordinal), l[..Math.Min(l.Length, 200)]));

        // The exact id resumes.
        var resumed = await patient.ResumeAsync(canceled.PredictionId!, canceled.ModelId);
        Assert.Equal(canceled.PredictionId, resumed.PredictionId);
        Assert.DoesNotContain('\u001b', resumed.ToString());
    }

    [Fact]
    public async Task A_hostile_running_status_reaches_progress_reports_on_one_line_and_bounded()
    {
        // An unknown status means "still running". It reaches every progress report and whatever prints them (the CLI's
        // lines): a line break in it would start a line of the service's choosing, and 5,000 characters would fill each.
        var status = System.Text.Json.JsonSerializer.Serialize("running\nFAKE: paid twice\u001b[2J" + new string('q', 5000));
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (_, _) => 0.2);
        for (var i = 0; i < 3; i++)
        {
            emulator.EnqueueReply(new EmulatorReply(200, "{\"data\":{\"id\":\"%ID%\",\"status\":" + status + "}}"), FaultTarget.Poll);
        }

        using var client = Emu.Client(emulator);
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        var result = await client.GenerateAsync(new ImageJob("a lamp"), new SyncProgress<Polling.GenerationProgress>(p => seen.Add(p.Status.Value)));
        Assert.NotEmpty(result.Images);
        var hostile = seen.Where(s => s.StartsWith("running", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(hostile);
        Assert.All(hostile, s =>
        {
            Assert.DoesNotContain(s, c => c is '\n' or '\r' or '\u001b');
            Assert.True(s.Length <= SafeText.MaxValueChars, $"{s.Length} characters");
        });
    }

    [Fact]
    public async Task A_hostile_status_reaches_a_timeout_message_on_one_line_and_bounded()
    {
        // An unknown status means "still running": the wait goes on to its deadline, and the message names the last one.
        var status = System.Text.Json.JsonSerializer.Serialize("queued\n" + new string('q', 5000));
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (_, _) => 30, timeScale: 0.05);
        for (var i = 0; i < 200; i++)
        {
            emulator.EnqueueReply(new EmulatorReply(200, "{\"data\":{\"id\":\"%ID%\",\"status\":" + status + "}}"), FaultTarget.Poll);
        }

        using var client = Emu.Client(emulator, o => o.Deadline = TimeSpan.FromSeconds(1));
        var ex = await Assert.ThrowsAsync<PredictionTimeoutException>(() => client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard));
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain(new string('q', 300), ex.Message, StringComparison.Ordinal);
        Assert.Contains("last status: queued", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wait_broken_by_a_failure_of_the_callers_shows_a_hostile_id_as_other_messages_do()
    {
        // The message of a wait ended by something of the caller's (a handler, a listener): the same rule as a timeout's.
        var nasty = "x\u001b[2J\ny\u202E" + new string('a', 5000);
        var ex = Polling.PredictionWaiter.Broken(nasty, Catalog.ModelCatalog.Default[ImageTier.NanoBanana2], "processing\u001b", new InvalidOperationException("handler bug"));
        Assert.Equal(nasty, ex.PredictionId);
        Assert.DoesNotContain('\u001b', ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain('\u202E', ex.Message);
        Assert.DoesNotContain(new string('a', 300), ex.Message, StringComparison.Ordinal);
        Assert.Contains("client.ResumeAsync(exception.PredictionId", ex.Message, StringComparison.Ordinal);
        var plain = Polling.PredictionWaiter.Broken("2b9a360d9", Catalog.ModelCatalog.Default[ImageTier.NanoBanana2], "processing", new InvalidOperationException("handler bug"));
        Assert.Contains("client.ResumeAsync(\"2b9a360d9\", \"gemini-3.1-flash-image-preview\")", plain.Message, StringComparison.Ordinal);

        // A short id with a quote, a backslash or an unsafe character: the hint holds it exactly, as a printable literal.
        var odd = Polling.PredictionWaiter.Broken("a\"b\\c\u001bd", Catalog.ModelCatalog.Default[ImageTier.NanoBanana2], "processing", new InvalidOperationException("handler bug"));
        Assert.Contains("client.ResumeAsync(\"a\\\"b\\\\c\\u001Bd\", \"gemini-3.1-flash-image-preview\")", odd.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', odd.Message);
    }

    [Fact]
    public void Long_ids_that_differ_only_at_the_end_stay_apart_when_shown_and_no_character_is_split()
    {
        // A hostile or merely long prefix shared by every job: cut at the end, every job's log lines and span tags named
        // the same id. The cut is in the middle, and never between the halves of a surrogate pair.
        var prefix = new string('x', 400);
        var a = SafeText.Value(prefix + "-0001")!;
        var b = SafeText.Value(prefix + "-0002")!;
        Assert.Equal(SafeText.MaxValueChars, a.Length);
        Assert.NotEqual(a, b);
        Assert.StartsWith(new string('x', 100), a, StringComparison.Ordinal);
        Assert.EndsWith("-0001", a, StringComparison.Ordinal);
        Assert.Contains("…", a, StringComparison.Ordinal);
        Assert.Equal("short-id", SafeText.Value("short-id"));
        Assert.Equal(new string('y', SafeText.MaxValueChars), SafeText.Value(new string('y', SafeText.MaxValueChars)));

        for (var shift = 0; shift < 4; shift++)
        {
            var emoji = new string('e', shift) + string.Concat(Enumerable.Repeat("\U0001F34C", 300));
            var shown = SafeText.Value(emoji)!;
            Assert.True(shown.Length <= SafeText.MaxValueChars, $"{shown.Length} characters");
            for (var i = 0; i < shown.Length; i++)
            {
                Assert.False(char.IsHighSurrogate(shown[i]) && (i + 1 == shown.Length || !char.IsLowSurrogate(shown[i + 1])), $"a lone high surrogate at {i} (shift {shift})");
                Assert.False(char.IsLowSurrogate(shown[i]) && (i == 0 || !char.IsHighSurrogate(shown[i - 1])), $"a lone low surrogate at {i} (shift {shift})");
            }
        }
    }

    [Theory]
    [InlineData("2b9a360d9")]
    [InlineData("sora-2:task/7f3a")]
    [InlineData("a\"b\\c")]
    [InlineData("\u001b]0;owned\u0007\n\r\t\u202E../\u0000\u007f\u0085")]
    [InlineData("日本語の画像-😀")]
    [InlineData("")]
    public void A_quoted_value_is_printable_ascii_and_reads_back_exactly(string value)
    {
        var quoted = SafeText.Quoted(value);
        Assert.All(quoted, c => Assert.InRange(c, ' ', '~'));
        Assert.StartsWith("\"", quoted, StringComparison.Ordinal);
        Assert.EndsWith("\"", quoted, StringComparison.Ordinal);
        Assert.Equal(value, System.Text.Json.JsonSerializer.Deserialize<string>(quoted)); // a JSON string, and so a C# one
    }

    [Fact]
    public void A_quoted_value_keeps_a_lone_surrogate_as_an_escape()
    {
        // A lone surrogate (not valid UTF-16 text, but a string can hold it) is kept as its escape, which C# reads back.
        Assert.Equal("\"x\\uD800y\"", SafeText.Quoted("x\uD800y"));
    }

    [Fact]
    public async Task Service_text_that_would_act_on_a_terminal_reaches_no_message_or_log_line()
    {
        // An escape sequence that sets the terminal's title, a bell, a carriage return that overwrites a log line, and a
        // right-to-left override that reorders what is read: in a failed job's error, its status and an error body.
        const string Nasty = "\u001b]0;owned\u0007 done\rFAKE \u202Egnp.exe";
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, o => o.Retry.MaxRetries = 0, loggers: logs);
        var failed = System.Text.Json.JsonSerializer.Serialize(Nasty);
        emulator.EnqueueReply(new EmulatorReply(200, "{\"data\":{\"id\":\"%ID%\",\"status\":" + System.Text.Json.JsonSerializer.Serialize("queued" + Nasty) + "}}"), FaultTarget.Poll);
        emulator.EnqueueReply(new EmulatorReply(200, "{\"data\":{\"id\":\"%ID%\",\"status\":\"failed\",\"error\":" + failed + "}}"), FaultTarget.Poll);
        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("a lamp") { AllowFallback = false }));
        Assert.Contains("owned", ex.ProviderMessage);
        emulator.EnqueueReply(new EmulatorReply(400, "{\"error\":{\"message\":" + failed + ",\"code\":" + failed + "}}") { AcceptsJob = false }, FaultTarget.Submit);
        var refused = await Assert.ThrowsAnyAsync<NanoBananaApiException>(() => client.GenerateAsync(new ImageJob("a lamp") { AllowFallback = false }));

        string[] texts = [ex.Message, ex.ProviderMessage!, ex.ToString(), refused.Message, refused.ProviderMessage!, refused.ErrorCode!, refused.RawBodyExcerpt ?? "", .. logs.Entries.Select(e => e.Message)];
        foreach (var text in texts)
        {
            Assert.DoesNotContain(text, c => c is '\u001b' or '\u0007' or '\r' or '\u202E');
        }

        Assert.Contains(logs.Entries, e => e.Message.Contains("owned", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_id_that_would_forge_a_log_line_is_logged_harmlessly_and_kept_exactly()
    {
        const string Prefix = "id\r\n2026-11-23 FAKE: all paid\u001b[2J-";
        await using var emulator = await Emu.StartAsync(o => o.IdPrefix = Prefix);
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.StartsWith(Prefix, result.PredictionId, StringComparison.Ordinal); // resuming needs the id as it was sent
        Assert.Contains(logs.Entries, e => e.Message.Contains("FAKE", StringComparison.Ordinal));
        Assert.All(logs.Entries, e => Assert.DoesNotContain(e.Message, c => c is '\r' or '\n' or '\u001b'));
    }

    [Fact]
    public async Task A_poll_answer_that_names_another_prediction_is_read_as_the_polled_ones_and_said_once()
    {
        // The body's id differs from the id polled (a relay that rewrites ids, or one that mixes up answers): the result
        // keeps the id polled, which is the one to resume by, and a warning says so once, with the other id made safe.
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        emulator.EnqueueReply(new EmulatorReply(200, "{\"data\":{\"id\":\"other\\u001b[2J\",\"status\":\"processing\"}}"), FaultTarget.Poll);
        emulator.EnqueueReply(new EmulatorReply(200, "{\"data\":{\"id\":\"other\\u001b[2J\",\"status\":\"completed\",\"outputs\":[\"%OUTPUT%\"]}}"), FaultTarget.Poll);
        var result = await operation.WaitForCompletionAsync().WaitAsync(Guard);
        Assert.Equal(operation.Id, result.PredictionId);
        Assert.Single(result.Images);
        var warnings = logs.Entries.Where(e => e.Message.Contains("names another prediction", StringComparison.Ordinal)).ToList();
        var warning = Assert.Single(warnings);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains(SafeText.Value(operation.Id)!, warning.Message, StringComparison.Ordinal);
        Assert.Contains("other", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', warning.Message);

        // An answer that names the id polled, or none (many providers' poll bodies carry none), says nothing.
        var quiet = new CapturingLoggerProvider();
        using var second = Emu.Client(emulator, loggers: quiet);
        var next = await second.StartGenerationAsync(new ImageJob("a lamp"));
        emulator.EnqueueReply(new EmulatorReply(200, "{\"data\":{\"status\":\"processing\"}}"), FaultTarget.Poll);
        await next.WaitForCompletionAsync().WaitAsync(Guard);
        Assert.DoesNotContain(quiet.Entries, e => e.Message.Contains("names another prediction", StringComparison.Ordinal));
    }

    // 5. The key never leaks, whatever the service echoes.
    [Fact]
    public async Task A_failed_prediction_that_echoes_the_key_leaks_it_nowhere()
    {
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        emulator.EnqueueFault(FaultKind.EchoKey, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("a lamp") { AllowFallback = false }));
        Assert.Contains("upstream rejected the request", ex.ProviderMessage);
        AssertNoKey(ex.Message, ex.ToString(), ex.ProviderMessage, ex.RawBodyExcerpt);
        AssertNoKey([.. logs.Entries.Select(e => e.Message)]);
        Assert.Contains(logs.Entries, e => e.Message.Contains("upstream rejected", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_error_body_that_echoes_the_key_escaped_and_across_the_excerpt_cut_leaks_nothing()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Retry.MaxRetries = 0);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        emulator.EnqueueFault(FaultKind.EchoKey, FaultTarget.Poll);
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => client.Protocol.GetPredictionAsync(operation.Id));
        Assert.Equal(HttpStatusCode.InternalServerError, ex.StatusCode);
        Assert.Contains("upstream auth failed", ex.ProviderMessage);
        AssertNoKey(ex.Message, ex.ToString(), ex.ProviderMessage, ex.RawBodyExcerpt);
    }

    [Fact]
    public void The_redactor_catches_escaped_encoded_and_cut_forms()
    {
        var r = new SecretRedactor(Emu.Key);
        var escaped = string.Concat(Emu.Key.Select(c => $"\\u{(int)c:X4}"));
        Assert.Equal("a *** b", r.Redact($"a {Emu.Key} b"));
        Assert.Equal("a *** b", r.Redact($"a {escaped} b"));
        Assert.Equal("a *** b", r.Redact("a " + Uri.EscapeDataString(Emu.Key).Replace("-", "%2D", StringComparison.Ordinal) + " b"));
        Assert.Equal("x ***", r.Redact("x " + Emu.Key[..7], textWasCut: true));
        Assert.Equal("x ***", r.Redact("x " + escaped[..20], textWasCut: true));
        Assert.Equal("x sk-", r.Redact("x sk-", textWasCut: true)); // too short a tail to judge
        var body = new string('.', WireParser.MaxExcerptChars - 5) + Emu.Key + new string('.', 100);
        var excerpt = WireParser.Excerpt(System.Text.Encoding.UTF8.GetBytes(body), r);
        AssertNoKey(excerpt);
        Assert.EndsWith("…", excerpt);
    }

    [Theory]
    [InlineData(FaultKind.CutBody)]
    [InlineData(FaultKind.OversizedBody)]
    [InlineData(FaultKind.MalformedJson)]
    public async Task A_job_whose_submit_answer_breaks_off_after_naming_it_is_collected_once_and_said_so(FaultKind fault)
    {
        // Before, the paid job was reported as an unknown outcome without its id, which the answer had already given.
        await using var emulator = await Emu.StartAsync(o => o.OversizedBodyBytes = 3_000_000);
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        emulator.EnqueueFault(fault, FaultTarget.Submit);

        var result = await client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard);

        var job = emulator.Jobs.Single();
        Assert.Equal(job.Id, result.PredictionId);
        Assert.Single(result.Attempts);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.Equal(1, emulator.Count("submit"));
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        Assert.Contains(logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("broke off", StringComparison.Ordinal) && e.Message.Contains(SafeText.Value(job.Id)!, StringComparison.Ordinal));

        // When the job began is unknown (the answer may have taken long), so it teaches the completion-time estimate nothing.
        Assert.Equal(0, client.LatencyStatistics.Count(result.Model));
    }

    // 6 and 7. A completed output that cannot be taken fails with the id, never resubmitted; unsafe URLs are not fetched.
    [Theory]
    [InlineData(FaultKind.UndecodableOutput, "nor valid base64")]
    [InlineData(FaultKind.MetadataOutputUrl, "169.254.169.254")]
    public async Task A_completed_output_that_is_undecodable_or_unsafe_fails_with_the_id_and_is_not_resubmitted(FaultKind fault, string expected)
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(fault, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<OutputUnavailableException>(() => client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard));
        Assert.Equal(emulator.Jobs.Single().Id, ex.PredictionId);
        Assert.Contains(expected, ex.Message);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.DoesNotContain(emulator.Requests, r => r.Kind == "output");
    }

    [Theory]
    [InlineData("binary/octet-stream")] // S3's default for an object stored without a type
    [InlineData("application/binary")]
    [InlineData("text/plain")]
    [InlineData("")] // no Content-Type at all
    public async Task An_image_served_under_a_generic_type_is_taken_for_what_its_bytes_are(string contentType)
    {
        // The label used to decide: anything but image/* or application/octet-stream was refused before a byte was read,
        // so a completed, paid image behind such storage could not be had.
        await using var emulator = await Emu.StartAsync(o => o.OutputContentType = contentType);
        using var client = Emu.Client(emulator);
        var result = await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana2 });
        var bytes = await result.Images[0].GetBytesAsync();

        Assert.Equal((1024, 1024), PngWriter.ReadSize(bytes));
        using var copy = new MemoryStream();
        Assert.Equal("image/png", await client.Protocol.DownloadAsync(result.Images[0].Uri!.AbsoluteUri, copy));
        Assert.Equal(bytes, copy.ToArray());
        var served = emulator.Requests.Last(r => r.Kind == "output");
        Assert.Equal(200, served.StatusCode);
    }

    [Fact]
    public async Task A_download_that_is_not_an_image_is_refused_with_the_id()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.NonImageOutput, FaultTarget.Submit);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        var ex = await Assert.ThrowsAsync<OutputUnavailableException>(() => result.Images[0].GetBytesAsync());
        Assert.Equal(result.PredictionId, ex.PredictionId);
        Assert.Contains("text/html", ex.Message);
    }

    [Theory]
    [InlineData("https://cdn.example.com/a.png", null, false)]
    [InlineData("http://cdn.example.com/a.png", null, true)]
    [InlineData("https://169.254.169.254/latest/meta-data/", null, true)]
    [InlineData("https://[fe80::1]/a.png", null, true)]
    [InlineData("https://metadata.google.internal/computeMetadata/v1/", null, true)]
    [InlineData("https://10.0.4.7/a.png", null, true)]
    [InlineData("https://10.0.4.7/a.png", "10.0.4.7", false)]
    [InlineData("http://cdn.corp.example/a.png", "cdn.corp.example", false)]
    [InlineData("ftp://cdn.example.com/a.png", null, true)]
    [InlineData("file:///etc/passwd", null, true)]
    [InlineData("http://127.0.0.1:9/a.png", null, true)] // loopback only when the API is on loopback
    public void The_output_policy_refuses_what_it_should(string url, string? allowed, bool refused)
    {
        var policy = new OutputUrlPolicy(allowed is null ? [] : [allowed], new Uri("https://api.example.com/api/v3/"));
        Assert.Equal(refused, policy.Check(new Uri(url)) is not null);
    }

    // 7, by name: the URL looks public, but the host resolves to the metadata address. Judged when connecting.
    [Fact]
    public async Task A_public_looking_host_that_resolves_to_the_metadata_address_is_not_fetched()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var asked = new List<string>();
        client.Protocol.OutputPolicy.Resolve = (host, _) =>
        {
            lock (asked)
            {
                asked.Add(host);
            }

            return Task.FromResult(new[] { IPAddress.Parse("93.184.215.14"), IPAddress.Parse("169.254.169.254") });
        };
        emulator.EnqueueReply(new EmulatorReply(200, """{"data":{"id":"%ID%","status":"completed","outputs":["https://cdn.images-example.com/a.png"]}}"""), FaultTarget.Poll);
        var result = await client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard);
        var ex = await Assert.ThrowsAsync<OutputUnavailableException>(() => result.Images[0].GetBytesAsync().WaitAsync(Guard));
        Assert.Equal(result.PredictionId, ex.PredictionId);
        Assert.Contains("resolves to 169.254.169.254", ex.Message);
        Assert.Contains("link-local", ex.Message);
        Assert.Equal(["cdn.images-example.com"], asked); // judged once: a refusal is not retried
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/api/v3/", null, true)] // API on loopback (the emulator): a name resolving to loopback is fetched
    [InlineData("https://api.example.com/api/v3/", null, false)] // otherwise refused when connecting
    [InlineData("https://api.example.com/api/v3/", "images.local-alias.test", true)] // unless the host is allowed
    public async Task The_transport_judges_the_addresses_a_download_host_resolves_to(string apiBase, string? allowed, bool fetched)
    {
        await using var emulator = await Emu.StartAsync();
        var policy = new OutputUrlPolicy(allowed is null ? [] : [allowed], new Uri(apiBase))
        {
            Resolve = (_, _) => Task.FromResult(new[] { IPAddress.Loopback }),
        };
        using var http = new HttpClient(NanoBananaResilienceHandler.CreatePrimaryHandler());
        var port = emulator.ApiBaseUrl.Port;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://images.local-alias.test:{port}/api/v3/predictions/none/result");
        request.Options.Set(OutputUrlPolicy.RequestOption, policy);
        if (fetched)
        {
            using var response = await http.SendAsync(request); // reached the emulator over loopback: any HTTP answer will do
            Assert.True((int)response.StatusCode >= 200);
        }
        else
        {
            var ex = await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(request));
            var refused = Assert.IsType<OutputUrlPolicy.AddressRefusedException>(ex.InnerException);
            Assert.Contains("127.0.0.1, which is loopback", refused.Message);
        }
    }

    [Theory]
    [InlineData("http")]
    [InlineData("https")] // through a CONNECT tunnel
    public async Task A_download_through_a_proxy_on_a_private_address_connects_to_the_proxy(string scheme)
    {
        // A corporate or local proxy (HTTPS_PROXY) sits on a private or loopback address. The connection the transport
        // makes is to the proxy, which resolves the output's host itself. Judging the proxy's address as the output's
        // refused plain-http downloads behind such a proxy; an https download's tunnel is opened by a CONNECT request of
        // the runtime's own, which the check never saw, so https was not affected (this case keeps it so). The output
        // host is still judged by name before the fetch.
        using var proxy = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        var seen = new List<string>();
        var serving = Task.Run(async () =>
        {
            using var connection = await proxy.AcceptTcpClientAsync();
            var stream = connection.GetStream();
            var buffer = new byte[8192];
            var read = 0;
            while (!System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                read += await stream.ReadAsync(buffer.AsMemory(read));
            }

            var line = System.Text.Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
            lock (seen)
            {
                seen.Add(line);
            }

            // A plain request gets an answer; a tunnel is opened and then closed, so TLS fails after the proxy was reached.
            await stream.WriteAsync(line.StartsWith("CONNECT", StringComparison.Ordinal)
                ? "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray()
                : "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray());
        });

        var handler = NanoBananaResilienceHandler.CreatePrimaryHandler();
        handler.Proxy = new WebProxy(new Uri($"http://127.0.0.1:{((IPEndPoint)proxy.LocalEndpoint).Port}"));
        handler.UseProxy = true;
        using var http = new HttpClient(handler);
        var policy = new OutputUrlPolicy([], new Uri("https://api.example.com/api/v3/"))
        {
            Resolve = (host, _) => throw new InvalidOperationException($"the SDK resolved {host}; the proxy does that"),
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{scheme}://cdn.images-example.com/a.png");
        request.Options.Set(OutputUrlPolicy.RequestOption, policy);
        if (scheme == "http")
        {
            using var response = await http.SendAsync(request).WaitAsync(Guard);
            Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        }
        else
        {
            var ex = await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(request).WaitAsync(Guard));
            for (Exception? e = ex; e is not null; e = e.InnerException)
            {
                Assert.IsNotType<OutputUrlPolicy.AddressRefusedException>(e);
            }
        }

        await serving.WaitAsync(Guard);
        Assert.Equal(scheme == "http" ? "GET http://cdn.images-example.com/a.png HTTP/1.1" : "CONNECT cdn.images-example.com:443 HTTP/1.1", Assert.Single(seen));
    }

    // 8. API calls never follow redirects.
    [Fact]
    public async Task A_redirected_submit_is_not_reposted_elsewhere()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.Redirect, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Equal(NanoBananaErrorCodes.Redirect, ex.ErrorCode);
        Assert.Contains("localhost", ex.Message);
        Assert.Single(emulator.Requests, r => r.Kind == "submit");
        Assert.Equal(0, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_redirected_poll_is_not_trusted()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.Redirect, FaultTarget.Poll);
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard));
        Assert.Equal(NanoBananaErrorCodes.Redirect, ex.ErrorCode);
        Assert.Equal(emulator.Jobs.Single().Id, ex.PredictionId);
        Assert.Equal(emulator.Jobs.Single().Model.Id, ex.ModelId); // the protocol layer does not know it; the waiter adds it
        Assert.Single(emulator.Requests, r => r.Kind == "poll");
    }

    [Fact]
    public async Task Downloads_follow_a_checked_redirect_but_not_too_many_and_never_to_a_refused_address()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.RedirectOutput, FaultTarget.Submit);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(await result.Images[0].GetBytesAsync()); // one hop, to localhost: followed
        Assert.Equal(2, emulator.Count("output"));
        Assert.All(emulator.Requests.Where(r => r.Kind == "output"), r => Assert.False(r.HasAuthorization));

        using var strict = Emu.Client(emulator, o => o.Limits.MaxDownloadRedirects = 0);
        emulator.EnqueueFault(FaultKind.RedirectOutput, FaultTarget.Submit);
        var second = await strict.GenerateAsync(new ImageJob("a lamp"));
        var tooMany = await Assert.ThrowsAsync<OutputUnavailableException>(() => second.Images[0].GetBytesAsync());
        Assert.Contains("MaxDownloadRedirects", tooMany.Message);
        Assert.Equal(second.PredictionId, tooMany.PredictionId);

        emulator.Options.RedirectOutputToMetadata = true;
        emulator.EnqueueFault(FaultKind.RedirectOutput, FaultTarget.Submit);
        var third = await client.GenerateAsync(new ImageJob("a lamp"));
        var refused = await Assert.ThrowsAsync<OutputUnavailableException>(() => third.Images[0].GetBytesAsync());
        Assert.Contains("169.254.169.254", refused.Message);
    }

    // 9. Every refusal is named.
    [Fact]
    public async Task When_no_model_accepts_every_attempt_is_named()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.Unavailable, FaultTarget.Submit, count: 3);
        var ex = await Assert.ThrowsAsync<NoModelAcceptedException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Equal(3, ex.Attempts.Count);
        Assert.All(ex.Attempts, a => Assert.Equal(AttemptOutcome.NotAccepted, a.Outcome));
        foreach (var model in client.Catalog.Models)
        {
            Assert.Contains(model.Id, ex.Message);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Equal(0, emulator.AcceptedSubmits);
    }

    private static void AssertNoKey(params string?[] texts)
    {
        var escapedStart = string.Concat(Emu.Key[..4].Select(c => $"\\u{(int)c:x4}"));
        foreach (var text in texts)
        {
            if (text is null)
            {
                continue;
            }

            Assert.DoesNotContain(Emu.Key[..8], text, StringComparison.Ordinal);
            Assert.DoesNotContain("SECRET-0123", text, StringComparison.Ordinal);
            Assert.DoesNotContain(escapedStart, text, StringComparison.OrdinalIgnoreCase);
        }
    }
}

/// <summary>Telemetry with process-wide listeners: not run in parallel with other tests.</summary>
[CollectionDefinition(nameof(TelemetryCollection), DisableParallelization = true)]
public sealed class TelemetryCollection;

[Collection(nameof(TelemetryCollection))]
public class FailedJobTelemetryTests
{
    // Counts nanobanana.jobs.failed while it lives (the collection runs alone, so every count is this test's).
    private sealed class FailedJobCount : IDisposable
    {
        private readonly MeterListener _meter = new();
        private long _value;

        public FailedJobCount()
        {
            _meter.InstrumentPublished = (i, l) => { if (i.Meter.Name == NanoBananaTelemetry.Name && i.Name == "nanobanana.jobs.failed") { l.EnableMeasurementEvents(i); } };
            _meter.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref _value, v));
            _meter.Start();
        }

        public long Value => Interlocked.Read(ref _value);

        public void Dispose() => _meter.Dispose();
    }

    [Fact]
    public async Task A_failed_job_span_has_error_status_and_the_exception_and_deadline_timeouts_count_as_failed()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Deadline = TimeSpan.FromSeconds(1));
        using var spans = new SpanRecorder();
        using var failed = new FailedJobCount();

        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<PredictionTimeoutException>(() => client.GenerateAsync(new ImageJob("a lamp")));

        var generate = Assert.Single(spans.Finished(), s => s.OperationName == "nanobanana.generate" && (string?)s.GetTagItem("nanobanana.prediction_id") == SafeText.Value(ex.PredictionId));

        Assert.Equal(ActivityStatusCode.Error, generate.Status);
        Assert.Equal(typeof(PredictionTimeoutException).FullName, generate.GetTagItem("error.type"));
        var evt = Assert.Single(generate.Events, e => e.Name == "exception");
        Assert.Contains(evt.Tags, t => t.Key == "exception.message" && ((string)t.Value!).Contains(SafeText.Value(ex.PredictionId)!, StringComparison.Ordinal));
        Assert.Equal(1, failed.Value);
    }

    [Fact]
    public async Task A_job_two_waits_gave_up_on_counts_as_failed_once()
    {
        // The first wait's deadline passes while a second, which joined later, still waits: the job has not failed yet.
        await using var emulator = await Emu.StartAsync();
        var time = new ManualTimeProvider();
        using var client = Emu.Client(emulator, time: time);
        using var failed = new FailedJobCount();

        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit);
        var operation = await client.StartGenerationAsync(new ImageJob("x") { Deadline = TimeSpan.FromSeconds(20) });
        var first = operation.WaitForCompletionAsync();
        await ClientTests.AdvanceAsync(time, TimeSpan.FromSeconds(15));
        var second = operation.WaitForCompletionAsync();
        await ClientTests.AdvanceAsync(time, TimeSpan.FromSeconds(7));
        await Assert.ThrowsAsync<PredictionTimeoutException>(() => first);
        Assert.Equal(0, failed.Value);

        await ClientTests.AdvanceUntilAsync(time, second, TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<PredictionTimeoutException>(() => second);
        Assert.Equal(1, failed.Value);
    }
}
