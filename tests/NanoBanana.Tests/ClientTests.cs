using Microsoft.Extensions.Logging;
using NanoBanana.Emulator;
using NanoBanana.Polling;
using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana.Tests;

/// <summary>The facade over real HTTP against the emulator: routing, waiting, fallbacks, deadlines, resume, cancel.</summary>
public class ClientTests
{
    [Theory]
    [InlineData(ApiProvider.GptProto)]
    [InlineData(ApiProvider.WaveSpeed)]
    [InlineData(ApiProvider.GptProtoUnified)]
    public async Task GenerateAsync_routes_submits_waits_and_returns_a_real_image(ApiProvider provider)
    {
        await using var emulator = await Emu.StartAsync(o => o.ReportExecutionTime = false); // stated: the check below is about its absence
        using var client = Emu.Client(emulator, o => o.Provider = provider);
        var job = new ImageJob("a jazz poster with the title BLUE NOTES") { Size = ImageSize.TwoK, AspectRatio = AspectRatio.Parse("3:4"), TypographyCritical = true };
        var result = await client.GenerateAsync(job);

        Assert.Equal(ImageTier.NanoBananaPro, result.Model.Tier);
        Assert.Same(result.Model, result.Decision!.Model);
        Assert.Equal(0.134m, result.EstimatedCostUsd);
        Assert.NotEmpty(result.PredictionId);
        Assert.True(result.PollCount >= 1);
        Assert.True(result.Duration > TimeSpan.Zero);
        Assert.Null(result.ServerExecutionTime); // the emulator, like many services, does not report executionTime by default
        Assert.True(client.LatencyStatistics.Count(result.Model) == 1);
        var attempt = Assert.Single(result.Attempts);
        Assert.Equal(AttemptOutcome.Completed, attempt.Outcome);
        var bytes = await result.Images[0].GetBytesAsync();
        Assert.Equal((1792, 2400), PngWriter.ReadSize(bytes));
        Assert.Equal(new Catalog.PixelSize(1792, 2400), result.Images[0].ExpectedSize);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Edit_counts_faces_and_objects_from_the_job_and_enforces_limits_before_sending()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var faces = Enumerable.Range(0, 5).Select(i => ReferenceImage.Face($"https://img.example/face{i}.png")).ToArray();
        var result = await client.EditAsync(new ImageJob("a group photo") { ReferenceImages = faces });
        Assert.Equal(ImageTier.NanoBananaPro, result.Model.Tier); // 5 faces: only Pro
        Assert.Contains("\"images\":[", Assert.Single(emulator.Requests, r => r.Kind == "submit").Body);

        emulator.ClearLog();
        var tooMany = Enumerable.Range(0, 6).Select(i => ReferenceImage.Face($"https://img.example/face{i}.png")).ToArray();
        var ex = await Assert.ThrowsAsync<NoCapableModelException>(() => client.EditAsync(new ImageJob("x") { ReferenceImages = tooMany }));
        Assert.Contains("6 face references", ex.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => client.EditAsync(new ImageJob("no refs")));
        Assert.Empty(emulator.Requests);
    }

    public static TheoryData<string> InvalidJobs() => ["empty prompt", "relative url", "negative deadline", "8-day deadline", "cost cap", "15 references", "pinned incapable"];

    [Theory]
    [MemberData(nameof(InvalidJobs))]
    public async Task Invalid_jobs_fail_with_a_clear_error_and_zero_requests(string what)
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var job = what switch
        {
            "empty prompt" => new ImageJob(""),
            "relative url" => new ImageJob("x") { ReferenceImages = [new ReferenceImage(new Uri("cat.png", UriKind.Relative))] },
            "negative deadline" => new ImageJob("x") { Deadline = TimeSpan.FromSeconds(-1) },
            "8-day deadline" => new ImageJob("x") { Deadline = TimeSpan.FromDays(8) }, // past NanoBananaOptions.MaxDeadline; a timer threw after the submit
            "cost cap" => new ImageJob("x") { MaxCostUsd = 0m },
            "15 references" => new ImageJob("x") { ReferenceImages = Enumerable.Range(0, 15).Select(i => ReferenceImage.Other($"https://i.example/{i}.png")).ToArray() },
            _ => new ImageJob("x") { Size = ImageSize.FourK, PinnedTier = ImageTier.NanoBanana },
        };
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => client.GenerateAsync(job));
        Assert.True(ex is ArgumentException or NoCapableModelException, ex.GetType().Name);
        if (ex is ArgumentException arg)
        {
            Assert.NotNull(arg.ParamName);
            Assert.Contains(arg.ParamName!, arg.Message);
        }

        Assert.Empty(emulator.Requests);
    }

    [Fact]
    public async Task An_edit_without_reference_images_fails_naming_them_and_sends_nothing()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        foreach (var job in new[] { new ImageJob("x"), new ImageJob("x") { ReferenceImages = null! } })
        {
            // A null list was a NullReferenceException.
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.EditAsync(job));
            Assert.Contains("An edit needs at least one entry in ReferenceImages", ex.Message, StringComparison.Ordinal);
        }

        Assert.Empty(emulator.Requests);
    }

    [Fact]
    public async Task Dry_run_routes_and_explains_without_sending()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var decision = client.Route(new ImageJob("banner") { AspectRatio = AspectRatio.Parse("8:1"), TypographyCritical = true });
        Assert.Equal(ImageTier.NanoBanana2, decision.Model.Tier);
        Assert.Contains("would be preferred", decision.Explain());
        Assert.Empty(emulator.Requests);
    }

    [Fact]
    public async Task A_failed_job_falls_back_to_the_next_model_and_records_both_attempts()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(FaultKind.JobFails, FaultTarget.Submit);
        using var client = Emu.Client(emulator);
        var result = await client.GenerateAsync(new ImageJob("a product shot"));
        Assert.Equal(2, result.Attempts.Count);
        Assert.Equal(ImageTier.NanoBanana2, result.Attempts[0].Model.Tier);
        Assert.Equal(AttemptOutcome.Failed, result.Attempts[0].Outcome);
        Assert.Contains("5000", result.Attempts[0].Error);
        Assert.Equal(ImageTier.NanoBananaPro, result.Model.Tier);
        Assert.Equal(AttemptOutcome.Completed, result.Attempts[1].Outcome);
        Assert.Equal(2, emulator.AcceptedSubmits); // the failed run is refunded; the caller allowed the fallback
    }

    [Fact]
    public async Task A_moderation_failure_does_not_fall_back()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(FaultKind.JobFailsModeration, FaultTarget.Submit);
        using var client = Emu.Client(emulator);
        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("x")));
        Assert.True(ex.IsCallerError);
        Assert.Equal(1200, ex.TaskErrorCode);
        Assert.NotNull(ex.PredictionId);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Fallback_can_be_turned_off_per_job()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(FaultKind.JobFails, FaultTarget.Submit);
        using var client = Emu.Client(emulator);
        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("x") { AllowFallback = false }));
        Assert.False(ex.IsCallerError);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_503_submit_was_not_accepted_and_moves_to_the_next_model()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(FaultKind.Unavailable, FaultTarget.Submit);
        using var client = Emu.Client(emulator);
        var result = await client.GenerateAsync(new ImageJob("x"));
        Assert.Equal(AttemptOutcome.NotAccepted, result.Attempts[0].Outcome);
        Assert.Null(result.Attempts[0].PredictionId);
        Assert.Equal(ImageTier.NanoBananaPro, result.Model.Tier);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.Equal(2, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_submit_that_times_out_is_not_repeated_and_no_fallback_is_tried()
    {
        await using var emulator = await Emu.StartAsync(o => o.SlowSubmitDelay = TimeSpan.FromSeconds(10));
        using var client = Emu.Client(emulator, o => o.Retry.SubmitTimeout = TimeSpan.FromSeconds(1));
        await client.GenerateAsync(new ImageJob("warm-up")); // JIT and connection, so the timed submit surely arrives
        emulator.EnqueueFault(FaultKind.SlowSubmit, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.GenerateAsync(new ImageJob("x")));
        Assert.Contains("may have reached the service", ex.Message);
        Assert.Equal(2, emulator.Count("submit"));   // no second submit, no fallback submit
        Assert.Equal(2, emulator.AcceptedSubmits);
    }

    [Theory]
    [InlineData(FaultKind.RateLimitedWithRetryAfter)]
    [InlineData(FaultKind.InternalError)]
    [InlineData(FaultKind.Unavailable)]
    [InlineData(FaultKind.DropConnection)]
    public async Task Transient_poll_faults_do_not_disturb_the_result(FaultKind fault)
    {
        await using var emulator = await Emu.StartAsync(o => o.RetryAfterSeconds = 0);
        emulator.EnqueueFault(fault, FaultTarget.Poll, count: 2);
        using var client = Emu.Client(emulator);
        var result = await client.GenerateAsync(new ImageJob("x"));
        Assert.Single(result.Attempts);
        Assert.Equal(2, emulator.Requests.Count(r => r.Fault == fault));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Resumes_of_one_prediction_that_overlap_share_one_poll_loop()
    {
        // Two requests of a web app collecting the same job (the AspNetCore sample's resume address, opened twice) used
        // to poll it side by side. A job of about a second, real time; no random faults, so every poll is the schedule's.
        await using var emulator = await Emu.StartAsync(o => (o.LatencySampler, o.FaultRate) = ((_, _) => 1.0, 0), timeScale: 1);
        using var client = Emu.Client(emulator);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));

        var first = client.ResumeAsync(operation.Id, operation.Model.Id);
        var second = client.ResumeAsync(operation.Id, operation.Model.Id);
        Assert.Equal(1, client.ResumesInFlight);
        var results = await Task.WhenAll(first, second);
        Assert.Same(results[0], results[1]); // one operation, one result
        Assert.Equal(0, client.ResumesInFlight); // nothing kept once nobody waits

        // A resume after those starts afresh and polls once more (the job is done).
        var polls = emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == operation.Id);
        var again = await client.ResumeAsync(operation.Id, operation.Model.Id);
        Assert.NotSame(results[0], again);
        Assert.Equal(polls + 1, emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == operation.Id));

        // One cancelled does not end the other's wait.
        var job = await client.StartGenerationAsync(new ImageJob("a chair"));
        using var early = new CancellationTokenSource();
        var cancelled = client.ResumeAsync(job.Id, job.Model.Id, early.Token);
        var kept = client.ResumeAsync(job.Id, job.Model.Id);
        await early.CancelAsync();
        Assert.Equal(job.Id, (await Assert.ThrowsAsync<PredictionCanceledException>(() => cancelled)).PredictionId);
        Assert.Equal(job.Id, (await kept).PredictionId);
    }

    [Fact]
    public async Task A_malformed_poll_body_is_retried_then_reported()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(FaultKind.MalformedJson, FaultTarget.Poll, count: 2);
        using var client = Emu.Client(emulator);
        var ok = await client.GenerateAsync(new ImageJob("x"));
        Assert.Single(ok.Attempts);

        emulator.EnqueueFault(FaultKind.MalformedJson, FaultTarget.Poll, count: 50);
        var ex = await Assert.ThrowsAsync<MalformedResponseException>(() => client.GenerateAsync(new ImageJob("y")));
        Assert.NotNull(ex.PredictionId);
        Assert.Equal(client.Options.Polling.MaxConsecutiveMalformed + 1, emulator.Requests.Count(r => r.PredictionId == ex.PredictionId && r.Kind == "poll"));
    }

    [Fact]
    public async Task A_stuck_job_hits_the_deadline_with_its_id_and_can_be_resumed()
    {
        // Jobs take 1.5 s here (unscaled sampler, time scale 1) and the deadline is 300 ms.
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (_, _) => 1.5, timeScale: 1);
        using var client = Emu.Client(emulator, o => o.Polling.MinInterval = TimeSpan.FromMilliseconds(20));
        await client.StartGenerationAsync(new ImageJob("warm-up")); // JIT and connection: the timed submit must not eat the deadline
        var ex = await Assert.ThrowsAsync<PredictionTimeoutException>(() => client.GenerateAsync(new ImageJob("x") { Deadline = TimeSpan.FromMilliseconds(300) }));
        Assert.NotNull(ex.PredictionId);
        Assert.Contains(Diagnostics.SafeText.Value(ex.PredictionId!)!, ex.Message); // as messages show a service's id
        Assert.Equal(client.Catalog[ImageTier.NanoBanana2].Id, ex.ModelId);

        // A new client (as after a restart) resumes the same prediction: no new submit.
        using var restarted = Emu.Client(emulator);
        var result = await restarted.ResumeAsync(ex.PredictionId!, ex.ModelId);
        Assert.Equal(ex.PredictionId, result.PredictionId);
        Assert.Equal(2, emulator.AcceptedSubmits); // the warm-up and the job: resuming submitted nothing
    }

    [Fact]
    public async Task A_job_that_never_finishes_times_out_and_stops_polling()
    {
        // The client runs on a manual clock: polls happen only when its timers fire, so "it stopped" is checked as
        // "no timer is left", not as "nothing happened during a real delay".
        await using var emulator = await Emu.StartAsync();
        var time = new ManualTimeProvider();
        using var client = Emu.Client(emulator, time: time);
        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit);
        var job = client.GenerateAsync(new ImageJob("x") { Deadline = TimeSpan.FromSeconds(20) });
        await AdvanceUntilAsync(time, job, TimeSpan.FromMinutes(5));

        var ex = await Assert.ThrowsAsync<PredictionTimeoutException>(() => job);
        Assert.Equal(emulator.Options.RunningStatus, ex.LastStatus); // "processing" unless NB_EMULATOR_DEFAULTS names another
        var polls = emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == ex.PredictionId);
        Assert.True(polls > 1);
        Assert.Equal(0, time.PendingTimers); // nothing can wake the poller again
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, time.PendingTimers);

        // A poll already on the wire when the deadline fired may still reach the server's log (CI saw 395 then 396);
        // a poller that kept going would add hundreds.
        Assert.InRange(emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == ex.PredictionId), polls, polls + 1);
    }

    [Fact]
    public async Task A_poll_planned_past_the_deadline_gives_way_to_one_last_look_that_collects_a_finished_job()
    {
        // The schedule's next poll (an hour away) falls past the 5 s deadline. The job finished long before: one last
        // look, a minimum interval (2 s here, room for a slow machine) before the deadline, collects it. It used to sleep
        // to the deadline and report a timeout without a poll. Real time: a manual clock would run on during the poll.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => (o.Polling.MinInterval, o.Polling.MaxInterval) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)));
        var operation = await client.StartGenerationAsync(new ImageJob("x") { Deadline = TimeSpan.FromSeconds(5) });

        var result = await operation.WaitForCompletionAsync(TimeSpan.FromHours(1)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(result.Images);
        Assert.Equal(1, result.PollCount);
        Assert.Equal(1, emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == operation.Id));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task The_last_look_is_taken_once_then_the_wait_times_out()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => (o.Polling.MinInterval, o.Polling.MaxInterval) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)));
        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit);
        var operation = await client.StartGenerationAsync(new ImageJob("x") { Deadline = TimeSpan.FromSeconds(5) });

        var ex = await Assert.ThrowsAsync<PredictionTimeoutException>(() => operation.WaitForCompletionAsync(TimeSpan.FromHours(1)).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(operation.Id, ex.PredictionId);
        Assert.Equal(emulator.Options.RunningStatus, ex.LastStatus);
        Assert.Equal(1, emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == operation.Id));
    }

    [Fact]
    public async Task Cancellation_mid_wait_ends_promptly_and_leaves_nothing_scheduled()
    {
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (_, _) => 3600, timeScale: 1);
        var time = new ManualTimeProvider();
        using var client = Emu.Client(emulator, time: time);
        using var cts = new CancellationTokenSource();
        var task = client.GenerateAsync(new ImageJob("x"), cts.Token);
        await AdvanceUntilAsync(time, Task.Run(async () =>
        {
            while (emulator.Count("poll") < 2)
            {
                await Task.Delay(5);
            }
        }), TimeSpan.FromMinutes(10));

        await cts.CancelAsync();
        var ex = await Assert.ThrowsAsync<PredictionCanceledException>(() => task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(emulator.Jobs.Single().Id, ex.PredictionId);
        Assert.Equal(0, time.PendingTimers); // no poll is left scheduled
    }

    // Moves the manual clock in 100 ms steps (letting HTTP run in between) until the task ends or the limit passes.
    internal static async Task AdvanceUntilAsync(ManualTimeProvider time, Task task, TimeSpan limit)
    {
        for (var t = TimeSpan.Zero; t < limit && !task.IsCompleted; t += TimeSpan.FromMilliseconds(100))
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(task, Task.Delay(2));
        }

        Assert.True(task.IsCompleted, $"still running after {limit} of manual time");
    }

    [Fact]
    public async Task Sync_mode_happy_path_needs_one_request()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.UseSyncMode = true);
        var result = await client.GenerateAsync(new ImageJob("x") { Base64Output = true });
        Assert.True(result.Images[0].IsInline);
        Assert.Equal("image/png", result.Images[0].MediaType);
        Assert.Single(emulator.Requests);
        Assert.Equal(0, result.PollCount);
    }

    [Theory]
    [InlineData(FaultKind.SyncTimeout)]
    [InlineData(FaultKind.GatewayTimeout)]
    public async Task Sync_timeout_continues_by_polling_the_same_id(FaultKind fault)
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(fault, FaultTarget.Submit);
        using var client = Emu.Client(emulator, o => o.UseSyncMode = true);
        var result = await client.GenerateAsync(new ImageJob("x"));
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.Equal(1, emulator.Count("submit"));
        Assert.True(result.PollCount >= 1);
        Assert.All(emulator.Requests.Where(r => r.Kind == "poll"), r => Assert.Equal(result.PredictionId, r.PredictionId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_sync_submit_cut_short_says_the_job_most_likely_runs_on_without_an_id(bool byDeadline)
    {
        // The job runs 10 s (real-time equivalent) at 1/20: the sync submit's wait is cut after 0.3 s of it.
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (_, _) => 10, timeScale: 0.05);
        using var client = Emu.Client(emulator, o =>
        {
            o.UseSyncMode = true;
            o.Deadline = byDeadline ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromMinutes(1);
        });
        using var cts = new CancellationTokenSource();
        if (!byDeadline)
        {
            cts.CancelAfter(TimeSpan.FromMilliseconds(300));
        }

        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.GenerateAsync(new ImageJob("x"), cts.Token));
        Assert.Null(ex.PredictionId);
        Assert.Contains("In sync mode the service gives the prediction id only when the job ends", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.Equal(1, emulator.Count("submit"));

        // In async mode the same cut leaves the id: the note is for sync mode only.
        using var asyncClient = Emu.Client(emulator, o => o.Deadline = TimeSpan.FromMilliseconds(300));
        var timeout = await Assert.ThrowsAsync<PredictionTimeoutException>(() => asyncClient.GenerateAsync(new ImageJob("x")));
        Assert.NotNull(timeout.PredictionId);
    }

    [Fact]
    public async Task A_foreign_poll_url_is_never_followed_the_client_polls_by_id()
    {
        await using var foreign = await Emu.StartAsync();
        await using var emulator = await Emu.StartAsync(o => o.ForeignPollBaseUrl = foreign.BaseAddress);
        emulator.EnqueueFault(FaultKind.ForeignPollUrl, FaultTarget.Submit);
        using var client = Emu.Client(emulator);
        var result = await client.GenerateAsync(new ImageJob("x"));
        Assert.NotNull(result.PredictionId);
        Assert.Empty(foreign.Requests);
    }

    [Fact]
    public async Task Concurrent_waits_on_one_operation_share_one_poll_loop_and_teach_the_estimate_once()
    {
        // A job of 0.4-0.8 s. No random faults: a retried poll comes sooner than the schedule's, and the spacing is what is checked.
        await using var emulator = await Emu.StartAsync(o => o.FaultRate = 0, timeScale: 0.1);
        using var client = Emu.Client(emulator);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        var schedule = new FixedPollSchedule(TimeSpan.FromMilliseconds(100));

        // Five waits at once, one of them given up early. They used to poll side by side over one shared state (five
        // times the requests) and each taught the estimate the same job again.
        using var early = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        var waits = Enumerable.Range(0, 5).Select(i => operation.WaitForCompletionAsync(schedule, null, i == 0 ? early.Token : default)).ToArray();
        var cancelled = await Assert.ThrowsAsync<PredictionCanceledException>(() => waits[0]);
        Assert.Equal(operation.Id, cancelled.PredictionId);
        var results = await Task.WhenAll(waits.Skip(1));
        Assert.All(results, r => Assert.Same(results[0], r));

        // One loop: the fixed schedule waits 100 ms after each answer, so no two polls of the job come closer than that.
        var polls = emulator.Requests.Where(r => r.Kind == "poll" && r.PredictionId == operation.Id).Select(r => r.Time).Order().ToList();
        Assert.NotEmpty(polls);
        var closest = polls.Zip(polls.Skip(1), (a, b) => b - a).DefaultIfEmpty(TimeSpan.MaxValue).Min();
        Assert.True(closest >= TimeSpan.FromMilliseconds(50), $"{polls.Count} polls, two of them {closest.TotalMilliseconds} ms apart");
        Assert.Equal(polls.Count, operation.PollCount);
        Assert.Equal(1, client.LatencyStatistics.Count(operation.Model));
    }

    [Fact]
    public async Task A_wait_that_joins_late_keeps_its_own_deadline_and_the_first_keeps_its_own()
    {
        // Each wait's deadline runs from when it was asked for. The second wait joins 15 s into the first's 20 s, so its
        // deadline is 35 s: it used to end with the first's timeout at 20 s. A manual clock: the job never finishes.
        await using var emulator = await Emu.StartAsync();
        var time = new ManualTimeProvider();
        using var client = Emu.Client(emulator, time: time);
        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit);
        var operation = await client.StartGenerationAsync(new ImageJob("x") { Deadline = TimeSpan.FromSeconds(20) });
        var first = operation.WaitForCompletionAsync();
        await AdvanceAsync(time, TimeSpan.FromSeconds(15));
        var second = operation.WaitForCompletionAsync();

        await AdvanceAsync(time, TimeSpan.FromSeconds(7)); // 22 s: the first's deadline has passed, the second's has not
        var early = await Assert.ThrowsAsync<PredictionTimeoutException>(() => first);
        Assert.Equal(operation.Id, early.PredictionId);
        Assert.Contains("deadline of 00:00:20", early.Message);
        Assert.False(second.IsCompleted, "the second wait ended with the first's deadline");
        var pollsAtFirstTimeout = emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == operation.Id);

        await AdvanceUntilAsync(time, second, TimeSpan.FromMinutes(1));
        var late = await Assert.ThrowsAsync<PredictionTimeoutException>(() => second);
        Assert.Equal(operation.Id, late.PredictionId);
        Assert.Contains("deadline of 00:00:35", late.Message);
        Assert.True(emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == operation.Id) > pollsAtFirstTimeout, "nobody polled for the second wait");
        Assert.Equal(0, time.PendingTimers); // the loop stopped with its last waiter
        Assert.Equal(1, client.LatencyStatistics.Count(operation.Model)); // one unfinished wait taught, not two
    }

    [Fact]
    public async Task A_wait_that_joins_with_a_shorter_interval_is_polled_for_at_its_own_pace_and_never_delays_the_loop()
    {
        // The shared loop polls as soon as any waiter's schedule asks. The first wait polls every 20 s; a second that joins
        // at 5 s asking every 1 s used to get nothing before 20 s (the loop slept on the first's schedule alone).
        // No network delay: it is real time, and this manual clock moves 100 ms for every 2 ms of it, so a 150 ms delay
        // (NB_EMULATOR_DEFAULTS=far-network) would land each poll seconds of schedule after it was sent.
        await using var emulator = await Emu.StartAsync(o => o.RequestDelay = TimeSpan.Zero);
        var time = new ManualTimeProvider();
        var start = time.GetUtcNow();
        using var client = Emu.Client(emulator, time: time);
        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit);
        var operation = await client.StartGenerationAsync(new ImageJob("x") { Deadline = TimeSpan.FromMinutes(2) });
        var polls = new List<double>(); // when each poll reached the emulator, in seconds on the manual clock
        async Task RunAsync(double seconds)
        {
            for (var t = 0.0; t < seconds; t += 0.1)
            {
                time.Advance(TimeSpan.FromMilliseconds(100));
                await Task.Delay(2);
                var count = emulator.Requests.Count(r => r.Kind == "poll" && r.PredictionId == operation.Id);
                while (polls.Count < count)
                {
                    polls.Add((time.GetUtcNow() - start).TotalSeconds);
                }
            }
        }

        var first = operation.WaitForCompletionAsync(TimeSpan.FromSeconds(20));
        await RunAsync(5);
        Assert.Empty(polls);
        using var cancelSecond = new CancellationTokenSource();
        var second = operation.WaitForCompletionAsync(TimeSpan.FromSeconds(1), cancelSecond.Token);
        await RunAsync(6); // to 11 s: about one poll a second from 6 s on
        Assert.True(polls.Count >= 4, $"polls at {string.Join(", ", polls)} s: the loop slept on the first wait's 20 s while the second asked for 1 s");
        Assert.True(polls[0] < 7, $"the first poll came at {polls[0]} s, not about 1 s after the second wait joined at 5 s");

        // The second leaves: at most the poll it had already set goes out, then the loop is back on the first's 20 s.
        cancelSecond.Cancel();
        await Assert.ThrowsAsync<PredictionCanceledException>(() => second);
        var atLeave = polls.Count;
        await RunAsync(45);
        var after = polls.Skip(atLeave).ToList();
        for (var i = 1; i < after.Count; i++)
        {
            Assert.True(after[i] - after[i - 1] >= 19.9, $"polls at {string.Join(", ", after)} s after the 1 s wait left");
        }

        Assert.InRange(after.Count, 2, 4);
        Assert.False(first.IsCompleted);

        // A joiner whose schedule asks for no sooner a poll than the loop's next one does not put that poll off: a fresh
        // 20 s schedule joining 19 s after the last poll still sees one about 20 s after it, not 39 s.
        var last = polls[^1];
        await RunAsync(last + 19 - (time.GetUtcNow() - start).TotalSeconds);
        using var cancelThird = new CancellationTokenSource();
        var third = operation.WaitForCompletionAsync(TimeSpan.FromSeconds(20), cancelThird.Token);
        await RunAsync(3);
        Assert.True(polls[^1] > last && polls[^1] < last + 21, $"polls at {string.Join(", ", polls)} s: the joiner at {last + 19} s put the next poll off");

        cancelThird.Cancel();
        await Assert.ThrowsAsync<PredictionCanceledException>(() => third);
        await AdvanceUntilAsync(time, first, TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<PredictionTimeoutException>(() => first);
        Assert.Equal(0, time.PendingTimers); // the loop stopped with its last waiter
    }

    // Moves the manual clock in 100 ms steps, letting HTTP run in between.
    internal static async Task AdvanceAsync(ManualTimeProvider time, TimeSpan span)
    {
        for (var t = TimeSpan.Zero; t < span; t += TimeSpan.FromMilliseconds(100))
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }
    }

    [Fact]
    public async Task Checks_of_one_prediction_beside_each_other_are_sent_one_after_the_other()
    {
        // Each answer is held 200 ms on its way back. Two UpdateStatusAsync calls at once (or one beside a wait) used to
        // poll together and interleave their updates of the job's state; now the second poll leaves after the first answer.
        await using var emulator = await Emu.StartAsync(o => o.Seed = 3, timeScale: 1);
        using var http = new HttpClient(new SlowAnswers(TimeSpan.FromMilliseconds(200)));
        using var client = new NanoBananaClient(Emu.Options(emulator), http);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));

        await Task.WhenAll(operation.UpdateStatusAsync(), operation.UpdateStatusAsync());

        var polls = emulator.Requests.Where(r => r.Kind == "poll").Select(r => r.Time).Order().ToList();
        Assert.Equal(2, polls.Count);
        Assert.True(polls[1] - polls[0] >= TimeSpan.FromMilliseconds(150), $"the polls arrived {(polls[1] - polls[0]).TotalMilliseconds} ms apart");
        Assert.Equal(2, operation.PollCount);
    }

    private sealed class SlowAnswers(TimeSpan delay) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            await Task.Delay(delay, cancellationToken);
            return response;
        }
    }

    [Fact]
    public async Task Every_concurrent_wait_hears_its_progress_even_when_another_callers_callback_throws()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.1);
        using var client = Emu.Client(emulator);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        var first = new List<string>();
        var joined = new List<string>();
        var throwing = new SyncProgress<GenerationProgress>(_ => throw new InvalidOperationException("a bug in a progress callback"));
        var schedule = new FixedPollSchedule(TimeSpan.FromMilliseconds(50));

        var a = operation.WaitForCompletionAsync(schedule, new SyncProgress<GenerationProgress>(p => { lock (first) { first.Add(p.Status.Value); } }), default);
        var b = operation.WaitForCompletionAsync(schedule, throwing, default); // joins; its callback throws every time
        var c = operation.WaitForCompletionAsync(schedule, new SyncProgress<GenerationProgress>(p => { lock (joined) { joined.Add(p.Status.Value); } }), default);
        await Task.WhenAll(a, b, c);

        // The joiner hears the status at once when it joins, then every change, the last being completed; the throwing
        // callback between them costs nobody anything.
        Assert.Equal("completed", first[^1]);
        Assert.True(joined.Count >= 2, string.Join(",", joined));
        Assert.Equal("completed", joined[^1]);
    }

    [Fact]
    public async Task A_wait_given_up_and_taken_up_again_on_the_same_operation_teaches_the_estimate_once()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.1);
        using var client = Emu.Client(emulator);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        Assert.False((await operation.UpdateStatusAsync()).IsTerminal); // a "still running" answer: a wait given up now teaches a bound
        using (var early = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
        {
            await Assert.ThrowsAsync<PredictionCanceledException>(() => operation.WaitForCompletionAsync(early.Token));
        }

        Assert.Equal(1, client.LatencyStatistics.Count(operation.Model));

        // The given-up wait taught "longer than the last running answer"; the completion would have taught the job again.
        await operation.WaitForCompletionAsync();
        Assert.Equal(1, client.LatencyStatistics.Count(operation.Model));
    }

    [Fact]
    public async Task The_operation_object_reports_status_and_value_like_azure_operations()
    {
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (_, _) => 1.0, timeScale: 1);
        using var client = Emu.Client(emulator);
        var op = await client.StartGenerationAsync(new ImageJob("x"));
        Assert.False(op.HasCompleted);
        Assert.False(op.HasValue);
        Assert.Throws<InvalidOperationException>(() => op.Value);
        Assert.NotNull(op.Decision);
        var status = await op.UpdateStatusAsync();
        Assert.False(status.IsTerminal);
        Assert.Equal(1, op.PollCount);

        var result = await op.WaitForCompletionAsync(TimeSpan.FromMilliseconds(50));
        Assert.True(op.HasCompleted && op.HasValue);
        Assert.Same(result, op.Value);
        Assert.Equal(op.Id, result.PredictionId);

        // Rehydrate from the id alone.
        var again = client.GetOperation(op.Id, op.Model.Id);
        Assert.Equal(PredictionStatus.Completed, await again.UpdateStatusAsync());
        Assert.Equal(op.Id, again.Value.PredictionId);
    }

    [Fact]
    public async Task A_failed_operation_throws_from_value()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(FaultKind.JobFails, FaultTarget.Submit);
        using var client = Emu.Client(emulator);
        var op = await client.StartGenerationAsync(new ImageJob("x"));
        await Assert.ThrowsAsync<PredictionFailedException>(() => op.WaitForCompletionAsync());
        Assert.True(op.HasCompleted);
        Assert.Throws<PredictionFailedException>(() => op.Value);
        Assert.Equal(1, emulator.AcceptedSubmits); // operations never fall back on their own
    }

    [Fact]
    public async Task Progress_reports_status_changes()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var seen = new List<GenerationProgress>();
        var progress = new SyncProgress<GenerationProgress>(seen.Add);
        var result = await client.GenerateAsync(new ImageJob("x"), progress);
        Assert.NotEmpty(seen);
        Assert.Equal(PredictionStatus.Completed, seen[^1].Status);
        Assert.All(seen, p => Assert.Equal(result.PredictionId, p.PredictionId));
    }

    [Fact]
    public async Task The_first_poll_waits_for_the_models_earliest_completion()
    {
        // Manual clock for the client, the real emulator for HTTP. NB2's catalog latency is 4-8 s. The emulated job
        // takes 300 ms of real time: long enough that the submit's answer cannot already say "completed" on a loaded
        // machine (clean-clone CI once saw that with a 0.4-0.8 ms job, and no poll was needed).
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (_, _) => 0.3, timeScale: 1);
        var time = new ManualTimeProvider();
        var options = new NanoBananaOptions { ApiKey = Emu.Key, BaseUrl = emulator.ApiBaseUrl };
        using var client = new NanoBananaClient(options, null, null, time);
        var op = await client.StartGenerationAsync(new ImageJob("x"));
        Assert.Equal(ImageTier.NanoBanana2, op.Model.Tier);
        var wait = op.WaitForCompletionAsync();
        for (var t = 0; t < 39; t++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(1);
        }

        Assert.Equal(0, emulator.Count("poll")); // nothing before 3.9 s
        for (var t = 0; t < 2000 && !wait.IsCompleted; t++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(5);
        }

        var result = await wait.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(emulator.Count("poll") >= 1);
        Assert.True(time.GetElapsedTime(0) >= TimeSpan.FromSeconds(4));
        Assert.Equal(op.Id, result.PredictionId);
    }

    [Fact]
    public async Task Logs_show_the_run_at_the_right_levels_and_never_the_key()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(FaultKind.Unavailable, FaultTarget.Poll);
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        await client.GenerateAsync(new ImageJob("a secret prompt about cats"));
        var all = logs.Entries.ToArray();
        Assert.DoesNotContain(all, e => e.Message.Contains(Emu.Key));
        Assert.Contains(all, e => e.Level == LogLevel.Information && e.Message.StartsWith("Routed to"));
        Assert.Contains(all, e => e.Level == LogLevel.Information && e.Message.StartsWith("Submitted prediction"));
        Assert.Contains(all, e => e.Level == LogLevel.Information && e.Message.Contains("completed in"));
        Assert.Contains(all, e => e.Level == LogLevel.Debug && e.Message.StartsWith("Poll "));
        Assert.All(all.Where(e => e.Message.Contains("secret prompt")), e => Assert.Equal(LogLevel.Trace, e.Level));
        Assert.DoesNotContain(Emu.Key, client.ToString());
        Assert.DoesNotContain(Emu.Key, client.Options.ToString());
    }

    [Fact]
    public async Task A_progress_callback_that_throws_does_not_cost_the_accepted_job()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.05); // the submit's answer does not already report it done
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        var reports = 0;
        var progress = new SyncProgress<GenerationProgress>(_ =>
        {
            reports++;
            throw new InvalidOperationException("a bug in the caller's reporting");
        });

        var result = await client.GenerateAsync(new ImageJob("a lamp"), progress);

        Assert.Equal(emulator.Jobs.Single().Id, result.PredictionId);
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        Assert.True(reports >= 2, $"{reports} reports"); // accepted, then completed: each threw, the wait went on
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains($"progress callback threw on prediction {Diagnostics.SafeText.Value(result.PredictionId)}", StringComparison.Ordinal));
    }
}
