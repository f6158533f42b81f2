using NanoBanana.Catalog;
using NanoBanana.Polling;

namespace NanoBanana.Tests;

/// <summary>
/// A service's <c>executionTime</c> is used as a completion time only once its reports have agreed with what polling saw,
/// and never again once one contradicts a "still running" answer: a report in other units, or without the queue, would
/// otherwise teach completion times that are too short.
/// </summary>
public class ReportedExecutionTimeTests
{
    private static readonly ImageModel Nb = ModelCatalog.Default[ImageTier.NanoBanana];

    [Fact]
    public void A_report_is_used_only_after_enough_jobs_seen_running_agreed_with_it()
    {
        var stats = new LatencyStatistics();

        // Jobs whose first poll found them done (lower bound 0) cannot test a report: they do not count.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(ReportedTimeUse.Unproven, stats.RecordCompletion(Nb, 0, 4.0, 3.5));
        }

        for (var i = 1; i < LatencyStatistics.ReportConfirmations; i++)
        {
            Assert.Equal(ReportedTimeUse.Unproven, stats.RecordCompletion(Nb, 3.0, 4.0, 3.5));
            Assert.False(stats.ReportsTrusted(Nb));
        }

        Assert.All(stats.Observations(Nb), o => Assert.NotEqual(o.Lower, o.Upper)); // intervals only so far
        Assert.Equal(ReportedTimeUse.Used, stats.RecordCompletion(Nb, 3.0, 4.0, 3.5));
        Assert.True(stats.ReportsTrusted(Nb));
        Assert.Equal(new CompletionObservation(3.5, 3.5), stats.Observations(Nb)[^1]);

        // Once trusted, a report outside the interval is still not used; one inside it is, even without a running answer.
        Assert.Equal(ReportedTimeUse.Outside, stats.RecordCompletion(Nb, 3.0, 4.0, 4.5));
        Assert.Equal(new CompletionObservation(3.0, 4.0), stats.Observations(Nb)[^1]);
        Assert.Equal(ReportedTimeUse.Used, stats.RecordCompletion(Nb, 0, 4.0, 3.9));
        Assert.Equal(ReportedTimeUse.NotReported, stats.RecordCompletion(Nb, 3.0, 4.0, null));
    }

    [Fact]
    public void A_report_earlier_than_a_running_answer_is_refuted_and_the_models_reports_are_not_used_again()
    {
        var stats = new LatencyStatistics();
        for (var i = 0; i < LatencyStatistics.ReportConfirmations; i++)
        {
            stats.RecordCompletion(Nb, 3.0, 4.0, 3.5);
        }

        Assert.True(stats.ReportsTrusted(Nb));

        // The service switches to seconds: a job found done at its first poll cannot tell, and its report is used.
        Assert.Equal(ReportedTimeUse.Used, stats.RecordCompletion(Nb, 0, 3.4, 0.0033));
        Assert.Contains(stats.Observations(Nb), o => o.Lower == o.Upper);

        // Seconds read as milliseconds: 4.2 s reported as 4.2 ms, by a job that was still running at 3 s.
        Assert.Equal(ReportedTimeUse.Refuted, stats.RecordCompletion(Nb, 3.0, 4.5, 0.0042));
        Assert.False(stats.ReportsTrusted(Nb));
        Assert.Equal(new CompletionObservation(3.0, 4.5), stats.Observations(Nb)[^1]);

        // Every observation taken from a report is the interval polling saw again.
        Assert.All(stats.Observations(Nb), o => Assert.NotEqual(o.Lower, o.Upper));
        Assert.Equal(new CompletionObservation(0, 3.4), stats.Observations(Nb)[^2]);
        Assert.Equal(new CompletionObservation(3.0, 4.0), stats.Observations(Nb)[^3]);

        // From now on the interval, even for reports that look right; other models are not affected.
        Assert.Equal(ReportedTimeUse.Distrusted, stats.RecordCompletion(Nb, 3.0, 4.0, 3.5));
        Assert.Equal(new CompletionObservation(3.0, 4.0), stats.Observations(Nb)[^1]);
        var pro = ModelCatalog.Default[ImageTier.NanoBananaPro];
        Assert.Equal(ReportedTimeUse.Unproven, stats.RecordCompletion(pro, 10.0, 12.0, 11.0));
    }

    [Fact]
    public void A_report_within_the_running_answers_round_trip_is_not_refuted()
    {
        var stats = new LatencyStatistics();

        // The service looked at the job somewhere within the poll's 0.2 s round trip; the client places the look in its
        // middle (3.0 s), so a job done at 2.95 s may have been "still running" at the look.
        Assert.Equal(ReportedTimeUse.Outside, stats.RecordCompletion(Nb, 3.0, 4.0, 2.95, lowerRoundTrip: 0.2));
        Assert.Equal(ReportedTimeUse.Refuted, stats.RecordCompletion(Nb, 3.0, 4.0, 2.85, lowerRoundTrip: 0.2));
    }

    [Fact]
    public async Task Trust_in_reports_and_the_intervals_behind_them_survive_a_restart()
    {
        var learned = new LatencyStatistics();
        for (var i = 0; i < LatencyStatistics.ReportConfirmations; i++)
        {
            learned.RecordCompletion(Nb, 3.0, 4.0, 3.5);
        }

        Assert.Equal(ReportedTimeUse.Used, learned.RecordCompletion(Nb, 0, 3.4, 3.3));
        var restarted = await RestartedAsync(learned);

        // Trusted from the first job: the restarted client does not earn it again.
        Assert.True(restarted.ReportsTrusted(Nb));
        Assert.Equal(new CompletionObservation(3.3, 3.3), restarted.Observations(Nb)[^1]);
        Assert.Equal(ReportedTimeUse.Used, restarted.RecordCompletion(Nb, 0, 4.0, 3.9));

        // The service now reports seconds as milliseconds: the refutation takes back the restored reports too.
        Assert.Equal(ReportedTimeUse.Refuted, restarted.RecordCompletion(Nb, 3.0, 4.5, 0.0042));
        var observations = restarted.Observations(Nb);
        Assert.All(observations, o => Assert.NotEqual(o.Lower, o.Upper));
        Assert.Equal([new(0, 3.4), new(0, 4.0), new(3.0, 4.5)], observations[^3..]);
        Assert.Equal(new CompletionObservation(3.0, 4.0), observations[^4]);

        // And the refutation is kept by the next restart.
        var again = await RestartedAsync(restarted);
        Assert.False(again.ReportsTrusted(Nb));
        Assert.Equal(ReportedTimeUse.Distrusted, again.RecordCompletion(Nb, 3.0, 4.0, 3.5));
    }

    [Fact]
    public async Task A_restored_history_longer_than_the_room_left_keeps_its_newest_reports_in_place()
    {
        var learned = new LatencyStatistics(window: 16);
        for (var i = 0; i < 40; i++)
        {
            learned.RecordCompletion(Nb, 3.0, 4.0, 3.0 + (i / 100.0)); // used from the ninth on
        }

        // The restarted client has seen two waits of its own and room for eight more: the newest eight restored.
        var fresh = new LatencyStatistics(window: 10);
        fresh.RecordInterval(Nb, 2.0, 5.0);
        fresh.RecordInterval(Nb, 2.0, 5.0);
        var restarted = await RestartedAsync(learned, fresh);
        static CompletionObservation Reported(int i) => new(Math.Round(3.0 + (i / 100.0), 3), Math.Round(3.0 + (i / 100.0), 3));
        Assert.Equal([.. Enumerable.Range(32, 8).Select(Reported), new(2.0, 5.0), new(2.0, 5.0)], restarted.Observations(Nb));

        // A refutation (the oldest restored wait leaves the window for it) puts every restored report's interval back.
        Assert.Equal(ReportedTimeUse.Refuted, restarted.RecordCompletion(Nb, 3.0, 4.5, 0.001));
        Assert.Equal([.. Enumerable.Repeat(new CompletionObservation(3.0, 4.0), 7), new(2.0, 5.0), new(2.0, 5.0), new(3.0, 4.5)], restarted.Observations(Nb));
    }

    private static async Task<LatencyStatistics> RestartedAsync(LatencyStatistics learned, LatencyStatistics? fresh = null)
    {
        using var stream = new MemoryStream();
        await CompletionTimesFile.WriteAsync(stream, learned, null, DateTimeOffset.UnixEpoch, CancellationToken.None);
        stream.Position = 0;
        var restarted = fresh ?? new LatencyStatistics();
        foreach (var model in (await CompletionTimesFile.ReadAsync(stream, CancellationToken.None)).Models)
        {
            restarted.Import(model);
        }

        return restarted;
    }

    [Fact]
    public async Task Over_http_a_service_that_reports_seconds_as_milliseconds_teaches_nothing_false()
    {
        await using var emulator = await Emu.StartAsync(
            o =>
            {
                o.ReportExecutionTime = true;
                o.ExecutionTimeFactor = 0.001;
                o.LeanPolls = false; // the reports ride on the polls' answers
                o.RequestDelay = TimeSpan.Zero; // jobs of 80-160 ms must be seen running
            },
            timeScale: 0.02);
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        await RunAsync(client, 24);

        var model = client.Catalog[ImageTier.NanoBanana];
        var observations = client.LatencyStatistics.Observations(model);
        Assert.Equal(24, observations.Length);

        // Every reported time was far inside [0, the first poll]: none was taken for a completion time.
        Assert.All(observations, o => Assert.True(o.Upper > o.Lower, $"({o.Lower}, {o.Upper}]"));
        Assert.False(client.LatencyStatistics.ReportsTrusted(model));
        var refutations = logs.Entries.Count(e => e.Message.Contains("reported execution times are not used from now on", StringComparison.Ordinal));
        var seenRunning = emulator.Jobs.Count(j => j.Polls > 1);
        Assert.True(seenRunning > 0, "no job was seen running: the test proves nothing");
        Assert.Equal(1, refutations);
    }

    [Fact]
    public async Task Over_http_honest_reports_are_never_refuted_and_are_used_once_confirmed()
    {
        await using var emulator = await Emu.StartAsync(o => (o.ReportExecutionTime, o.ExecutionTimeFactor, o.LeanPolls, o.RequestDelay) = (true, 1, false, TimeSpan.Zero), timeScale: 0.02);
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        await RunAsync(client, 48);

        var model = client.Catalog[ImageTier.NanoBanana];
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("reported execution times are not used", StringComparison.Ordinal));
        var seenRunning = emulator.Jobs.Count(j => j.Polls > 1);
        Assert.True(seenRunning >= LatencyStatistics.ReportConfirmations + 4, $"only {seenRunning} jobs were seen running");
        Assert.True(client.LatencyStatistics.ReportsTrusted(model));
        Assert.Contains(client.LatencyStatistics.Observations(model), o => o.Lower == o.Upper);

        // Saved and loaded by the public API, the trust comes along: a restarted client uses reports from its first job.
        using var saved = new MemoryStream();
        await client.SaveCompletionTimesAsync(saved);
        saved.Position = 0;
        using var restarted = Emu.Client(emulator);
        Assert.Equal(48, await restarted.LoadCompletionTimesAsync(saved));
        Assert.True(restarted.LatencyStatistics.ReportsTrusted(model));
    }

    // Nano Banana jobs, four at a time: later jobs poll by what the earlier ones taught.
    private static async Task RunAsync(NanoBananaClient client, int jobs)
    {
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(Enumerable.Range(0, jobs).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                await client.GenerateAsync(new ImageJob($"job {i}") { PinnedTier = ImageTier.NanoBanana });
            }
            finally
            {
                gate.Release();
            }
        }));
    }
}
