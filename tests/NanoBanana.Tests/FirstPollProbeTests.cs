using NanoBanana.Catalog;
using NanoBanana.Polling;
using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana.Tests;

/// <summary>Probes below the first poll: when they are sent, how many, when they stop, and one over real HTTP on a manual clock.</summary>
public class FirstPollProbeTests
{
    private static readonly ImageModel Nb2 = ModelCatalog.Default[ImageTier.NanoBanana2];

    // The first-poll trap, scaled to the model's range: 100 waits, 70 of them done by a first poll at 3/4 of the range's
    // top, the rest soon after; nothing seen below that first poll (for Nano Banana 2: 70 × (0, 6], then 6.2 … 7.8 s).
    private static void Trap(LatencyStatistics stats, ImageModel model)
    {
        var top = model.TypicalLatencyMax.TotalSeconds;
        for (var i = 0; i < 100; i++)
        {
            var (lower, upper) = i % 10 < 7 ? (0.0, 0.75 * top) : (0.75 * top, (0.75 + (0.025 * (i % 10))) * top);
            stats.RecordInterval(model, lower, upper);
        }
    }

    private static CompletionObservation[] Observations(int count, double lower, double upper) =>
        Enumerable.Repeat(new CompletionObservation(lower, upper), count).ToArray();

    [Fact]
    public void A_first_poll_most_jobs_beat_with_nothing_seen_below_it_is_probed_at_four_fifths_of_it()
    {
        var seen = Observations(60, 0, 5).Concat(Observations(40, 5, 5.6)).ToArray();
        Assert.Equal(4.0, FirstPollProbe.Time(5, 0.6, seen, 0.25), 9);
    }

    [Theory]
    [InlineData(0.39)] // too little mass before the first poll to matter
    [InlineData(double.NaN)]
    public void Without_enough_mass_before_the_first_poll_there_is_no_probe(double massBefore)
    {
        Assert.Equal(0, FirstPollProbe.Time(5, massBefore, Observations(100, 0, 5), 0.25));
    }

    [Fact]
    public void Eight_recent_bounds_inside_the_stretch_make_it_explored()
    {
        var seven = Observations(60, 0, 5).Concat(Observations(7, 0, 4)).ToArray();
        var eight = Observations(60, 0, 5).Concat(Observations(4, 0, 4)).Concat(Observations(4, 4, 5)).ToArray();
        Assert.Equal(4.0, FirstPollProbe.Time(5, 0.6, seven, 0.25), 9);
        Assert.Equal(0, FirstPollProbe.Time(5, 0.6, eight, 0.25));
    }

    [Fact]
    public void Bounds_older_than_the_window_do_not_count_and_bounds_near_the_first_poll_do_not_either()
    {
        // Eight bounds at 4 s, then 64 newer observations: the old ones have left the window.
        var old = Observations(8, 0, 4).Concat(Observations(FirstPollProbe.Window, 0, 5)).ToArray();
        Assert.Equal(4.0, FirstPollProbe.Time(5, 0.6, old, 0.25), 9);

        // Bounds at 4.6 s (above 90% of the first poll) are the first poll seen with timing noise, not exploration.
        var near = Observations(60, 0, 5).Concat(Observations(20, 0, 4.6)).ToArray();
        Assert.Equal(4.0, FirstPollProbe.Time(5, 0.6, near, 0.25), 9);
    }

    [Fact]
    public void A_probe_closer_to_the_submit_than_the_least_delay_is_not_sent()
    {
        Assert.Equal(0, FirstPollProbe.Time(0.3, 0.9, Observations(10, 0, 0.3), 0.25));
    }

    [Fact]
    public void At_most_eight_probes_among_any_sixty_four_first_polls()
    {
        var limiter = new FirstPollProbe.Limiter();
        var granted = Enumerable.Range(0, 64).Select(_ => limiter.TryTake(wanted: true)).ToArray();
        Assert.Equal(FirstPollProbe.Enough, granted.Count(g => g));
        Assert.All(granted.Take(FirstPollProbe.Enough), Assert.True); // the first ones, so exploring starts at once

        // A first poll that does not want a probe still counts: 64 of them free the window again.
        for (var i = 0; i < 64; i++)
        {
            Assert.False(limiter.TryTake(wanted: false));
        }

        Assert.True(limiter.TryTake(wanted: true));
    }

    [Fact]
    public void In_the_first_poll_trap_the_schedule_probes_a_few_jobs_then_stops_once_the_stretch_is_explored()
    {
        // Most jobs were done by the first poll (6 s) and the rest soon after: nothing was seen below 6 s.
        var stats = new LatencyStatistics();
        Trap(stats, Nb2);

        var options = new PollingOptions();
        var schedule = new AdaptivePollSchedule(stats, options);
        var plan = stats.GetPlan(Nb2, options);
        var firstPoll = plan.Delay(0);
        Assert.True(stats.GetEstimate(Nb2).Cdf(firstPoll) >= FirstPollProbe.MassBefore, $"first poll {firstPoll:0.00} s is not in the trap");

        var first = new PollScheduleContext(Nb2, TimeSpan.Zero, 0, PredictionStatus.Processing);
        var delays = Enumerable.Range(0, 64).Select(_ => schedule.GetNextDelay(first).TotalSeconds).ToArray();
        var probes = delays.Where(d => d < firstPoll - 1e-9).ToArray();
        Assert.Equal(FirstPollProbe.Enough, probes.Length);
        Assert.All(probes, d => Assert.Equal(FirstPollProbe.Share * firstPoll, d, 9));
        Assert.Equal(FirstPollProbe.Enough, stats.ProbesSent);

        // A probed job goes on with the plan from where its probe reached the service.
        var next = schedule.GetNextDelay(new PollScheduleContext(Nb2, TimeSpan.FromSeconds(probes[0]), 1, PredictionStatus.Processing) { LastPollReached = TimeSpan.FromSeconds(probes[0]) });
        Assert.Equal(plan.Delay(probes[0]), next.TotalSeconds, 9);

        // The probes' answers split the stretch: no more probes, even with the window free again.
        for (var i = 0; i < FirstPollProbe.Enough; i++)
        {
            var probe = probes[0];
            stats.RecordInterval(Nb2, i % 2 == 0 ? 0 : probe, i % 2 == 0 ? probe : firstPoll);
        }

        var later = Enumerable.Range(0, 128).Select(_ => schedule.GetNextDelay(first).TotalSeconds).ToArray();
        var newFirst = stats.GetPlan(Nb2, options).Delay(0);
        Assert.All(later, d => Assert.Equal(newFirst, d, 9));
        Assert.Equal(FirstPollProbe.Enough, stats.ProbesSent);
    }

    [Fact]
    public async Task Over_http_a_job_in_the_trap_polls_first_at_the_probe_then_follows_the_plan()
    {
        // Real HTTP to the emulator on a manual clock, every request 0.1 s on the wire each way; the job never finishes.
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (_, _) => 3600, timeScale: 1);
        var time = new ManualTimeProvider();
        using var wire = new ScheduleTests.SlowWire(time, TimeSpan.FromSeconds(0.1)) { InnerHandler = new SocketsHttpHandler() };
        using var http = new HttpClient(wire);
        using var client = new NanoBananaClient(Emu.Options(emulator, o => o.Deadline = TimeSpan.FromMinutes(10)), http, null, time);
        foreach (var tier in Enum.GetValues<ImageTier>())
        {
            Trap(client.LatencyStatistics, client.Catalog[tier]);
        }

        using var cts = new CancellationTokenSource();
        var job = client.GenerateAsync(new ImageJob("x"), cts.Token);
        await ScheduleTests.PollUntilAsync(time, wire, job, 3);
        var plan = client.LatencyStatistics.GetPlan(emulator.Jobs.Single().Model, client.Options.Polling);
        await cts.CancelAsync();
        await Assert.ThrowsAsync<PredictionCanceledException>(() => job.WaitAsync(TimeSpan.FromSeconds(30)));

        // The client counts the job from its submit's answer (0.2 s after the submit left; no round trip was known yet
        // to place the job's creation half of one earlier). The first poll went out at the probe (nor was one known to
        // send it ahead) and reached the service 0.1 s later, well before the plan's first poll; the next one is the
        // plan's, counted from where the probe landed.
        var arrivals = wire.ArrivalsSinceSubmitAnswer();
        var probe = FirstPollProbe.Share * plan.Delay(0);
        Assert.Equal(1, client.LatencyStatistics.ProbesSent);
        Assert.True(Math.Abs(arrivals[0] - (probe + 0.1)) <= 0.002, $"the first poll reached the service at {arrivals[0]:0.000} s; the probe was due at {probe + 0.1:0.000} s");
        Assert.True(arrivals[0] < plan.Delay(0) - 0.5, $"the probe at {arrivals[0]:0.000} s is not before the plan's first poll at {plan.Delay(0):0.000} s");
        var due = arrivals[0] + plan.Delay(arrivals[0]);
        Assert.True(Math.Abs(arrivals[1] - due) <= 0.002, $"the second poll reached the service at {arrivals[1]:0.000} s, due at {due:0.000} s");
    }

    [Fact]
    public void Budget_mode_never_probes_and_a_probe_already_past_is_not_sent()
    {
        var stats = new LatencyStatistics();
        Trap(stats, Nb2);

        var frugal = PollingOptions.Frugal();
        Assert.All(Enumerable.Range(0, 64), _ => Assert.Equal(0, stats.TakeFirstPollProbe(Nb2, frugal)));

        // A first poll asked for late (after a sync-mode wait timed out, say) is no probe.
        var options = new PollingOptions();
        Assert.All(Enumerable.Range(0, 64), _ => Assert.Equal(0, stats.TakeFirstPollProbe(Nb2, options, elapsed: 6)));
        Assert.Equal(0, stats.ProbesSent);

        // The same statistics do call for a probe at the submit, with the lag target.
        Assert.True(stats.TakeFirstPollProbe(Nb2, options) > 0);
        Assert.Equal(1, stats.ProbesSent);
    }
}
