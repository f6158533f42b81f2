using NanoBanana.Catalog;
using NanoBanana.Polling;
using NanoBanana.Protocol;
using NanoBanana.Routing;
using NanoBanana.Soak;

namespace NanoBanana.Tests;

/// <summary>The adaptive schedule and the live latency statistics, without HTTP (replayed against sampled completions).</summary>
public class ScheduleTests
{
    private static readonly ImageModel Nb2 = ModelCatalog.Default[ImageTier.NanoBanana2];

    private static double[] Uniform(Random random, int count, double lo, double hi) => Enumerable.Range(0, count).Select(_ => lo + ((hi - lo) * random.NextDouble())).ToArray();

    [Fact]
    public void Default_schedule_hits_its_lag_target_with_far_fewer_polls_than_a_fixed_loop()
    {
        var random = new Random(1);
        var stats = new LatencyStatistics();
        foreach (var x in Uniform(random, 1000, 4, 8))
        {
            stats.RecordExact(Nb2, x);
        }

        var schedule = new AdaptivePollSchedule(stats, new PollingOptions());
        var jobs = Uniform(random, 3000, 4, 8);
        var (lag, polls) = ScheduleReplay.Mean(schedule, Nb2, jobs);
        var (fixedLag, fixedPolls) = ScheduleReplay.Mean(new FixedPollSchedule(TimeSpan.FromSeconds(1)), Nb2, jobs);
        Assert.InRange(lag, 0.40, 0.50);
        Assert.True(lag < fixedLag, $"lag {lag} vs fixed {fixedLag}");
        Assert.True(polls < 0.6 * fixedPolls, $"polls {polls} vs fixed {fixedPolls}");
    }

    [Fact]
    public void Frugal_budget_mode_spends_no_more_polls_than_a_fixed_2s_loop_with_less_lag()
    {
        var random = new Random(2);
        var stats = new LatencyStatistics();
        foreach (var x in Uniform(random, 1000, 4, 8))
        {
            stats.RecordExact(Nb2, x);
        }

        var jobs = Uniform(random, 3000, 4, 8);
        var (lag, polls) = ScheduleReplay.Mean(new AdaptivePollSchedule(stats, PollingOptions.Frugal()), Nb2, jobs);
        var (fixedLag, fixedPolls) = ScheduleReplay.Mean(new FixedPollSchedule(TimeSpan.FromSeconds(2)), Nb2, jobs);
        Assert.True(polls <= fixedPolls, $"polls {polls} vs fixed 2 s {fixedPolls}");
        Assert.True(lag < 0.6 * fixedLag, $"lag {lag} vs fixed 2 s {fixedLag}");
    }

    [Fact]
    public void Before_learning_the_catalog_range_seeds_the_schedule_and_learning_moves_it()
    {
        var stats = new LatencyStatistics();
        var schedule = new AdaptivePollSchedule(stats, new PollingOptions());
        var first = schedule.GetNextDelay(new PollScheduleContext(Nb2, TimeSpan.Zero, 0, PredictionStatus.Created));
        Assert.True(first >= Nb2.TypicalLatencyMin, $"first poll {first} before the 4 s minimum");

        // The model turns out to answer in 1-2 s: the first poll moves earlier (the prior is worth only a few jobs).
        var random = new Random(3);
        foreach (var x in Uniform(random, 200, 1, 2))
        {
            stats.RecordExact(Nb2, x);
        }

        var learned = schedule.GetNextDelay(new PollScheduleContext(Nb2, TimeSpan.Zero, 0, PredictionStatus.Created));
        Assert.InRange(learned, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_poll_that_lands_a_little_early_or_late_keeps_to_the_plan()
    {
        // Polls land a little off their planned time (the timer, the round trip). The next one must still be the plan's
        // next: rounding an early landing down to the grid point before would start the rest of the chain a bin early,
        // poll after poll, and the plan would drift ever denser (over HTTP that cost 10-15% more polls).
        var stats = new LatencyStatistics();
        var pro = ModelCatalog.Default[ImageTier.NanoBananaPro];
        var plan = stats.GetPlan(pro, new PollingOptions());
        var bin = stats.GetEstimate(pro).BinWidth;
        var times = plan.PollTimes().Take(12).ToArray();
        for (var k = 0; k + 1 < times.Length; k++)
        {
            foreach (var off in new[] { -0.4, -0.1, 0, 0.1, 0.4 })
            {
                var landed = times[k] + (off * bin);
                Assert.Equal(times[k + 1], landed + plan.Delay(landed), 6);
            }
        }
    }

    [Fact]
    public void The_adaptive_schedule_counts_the_next_poll_from_where_the_last_one_reached_the_service()
    {
        var stats = new LatencyStatistics();
        var schedule = new AdaptivePollSchedule(stats, new PollingOptions());
        var plan = stats.GetPlan(Nb2, new PollingOptions());
        var times = plan.PollTimes().Take(4).ToArray();

        // The answer to the poll that reached the service at times[1] came back 0.3 s later: the next poll is due at
        // times[2] all the same, so the delay from now is 0.3 s shorter than the plan's gap.
        var context = new PollScheduleContext(Nb2, TimeSpan.FromSeconds(times[1] + 0.3), 2, PredictionStatus.Processing)
        {
            LastPollReached = TimeSpan.FromSeconds(times[1]),
        };
        Assert.Equal(times[2] - times[1] - 0.3, schedule.GetNextDelay(context).TotalSeconds, 6);

        // Without that time (a resumed prediction not yet polled), the delay is counted from now.
        var fresh = new PollScheduleContext(Nb2, TimeSpan.FromSeconds(times[1]), 2, PredictionStatus.Processing);
        Assert.Equal(times[2] - times[1], schedule.GetNextDelay(fresh).TotalSeconds, 6);
    }

    [Fact]
    public async Task Over_a_slow_network_polls_reach_the_service_at_the_planned_times()
    {
        // Real HTTP to the emulator on a manual clock; every request spends 0.1 s on the wire each way. After the first
        // poll (sent before any round trip is known) each poll must reach the service when the plan says, counted from
        // where the one before reached it: not half a round trip early, and with no drift along the chain.
        await using var emulator = await Emu.StartAsync(o => (o.LatencySampler, o.FaultRate) = ((_, _) => 3600, 0), timeScale: 1); // timed exactly: no random faults
        var time = new ManualTimeProvider();
        var oneWay = TimeSpan.FromSeconds(0.1); // a round trip shorter than the shortest gap (MinInterval)
        using var wire = new SlowWire(time, oneWay) { InnerHandler = new SocketsHttpHandler() };
        using var http = new HttpClient(wire);
        using var client = new NanoBananaClient(Emu.Options(emulator, o => o.Deadline = TimeSpan.FromMinutes(10)), http, null, time);
        var (model, plan) = await PollThenCancelAsync(client, emulator, time, wire, 8);

        // The client counts a job from its submit's answer less half a typical round trip: for this first job, with no
        // round trip known yet, from the answer, 0.2 s after the submit left.
        var arrivals = wire.ArrivalsSinceSubmitAnswer();
        for (var k = 1; k < arrivals.Length; k++)
        {
            // Within 2 ms: Task.Delay sleeps whole milliseconds.
            var due = arrivals[k - 1] + plan.Delay(arrivals[k - 1]);
            Assert.True(Math.Abs(arrivals[k] - due) <= 0.002, $"poll {k + 1} reached the service at {arrivals[k]:0.000} s, due at {due:0.000} s; all: {string.Join(" ", arrivals.Select(a => a.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)))}");
        }

        // The next job's first poll, too, lands on plan: the client now knows its typical round trip (0.2 s), so it
        // counts the job from 0.1 s after the submit left, when the service created it, and its submit came back 0.1 s
        // into the job, so the plan is looked up from there.
        plan = client.LatencyStatistics.GetPlan(model, client.Options.Polling);
        using var cts2 = new CancellationTokenSource();
        var second = client.GenerateAsync(new ImageJob("x"), cts2.Token);
        await PollUntilAsync(time, wire, second, 9);
        await cts2.CancelAsync();
        await Assert.ThrowsAsync<PredictionCanceledException>(() => second.WaitAsync(TimeSpan.FromSeconds(30)));
        var first = (wire.PollArrivals.ElementAt(8) - wire.SubmitSent).TotalSeconds;
        var planned = 0.1 + 0.1 + plan.Delay(0.1);
        Assert.True(Math.Abs(first - planned) <= 0.002, $"the first poll reached the service at {first:0.000} s, planned for {planned:0.000} s");
    }

    [Fact]
    public async Task A_job_is_counted_from_when_the_service_accepted_it_not_from_when_its_slow_submit_left()
    {
        // The submit spends 3 s reaching the service (an upload, a slow front end), then 0.1 s each way like every
        // request. The job starts when the service creates it, at 3.1 s; counted from when the submit left, the first
        // poll went out 3 s before the plan's first poll (measured over HTTP: the first submits of a fresh process took
        // 0.3 s, and the first eight jobs polled at 1.4 s where the plan said 4.65 s).
        await using var emulator = await Emu.StartAsync(o => (o.LatencySampler, o.FaultRate) = ((_, _) => 3600, 0), timeScale: 1); // timed exactly: no random faults
        var time = new ManualTimeProvider();
        using var wire = new SlowWire(time, TimeSpan.FromSeconds(0.1)) { InnerHandler = new SocketsHttpHandler(), SubmitUpload = TimeSpan.FromSeconds(3) };
        using var http = new HttpClient(wire);
        using var client = new NanoBananaClient(Emu.Options(emulator, o => o.Deadline = TimeSpan.FromMinutes(10)), http, null, time);
        var (_, plan) = await PollThenCancelAsync(client, emulator, time, wire, 2);
        var created = wire.SubmitSent + TimeSpan.FromSeconds(3.1);
        var first = (wire.PollArrivals.First() - created).TotalSeconds;

        // No round trip is known yet, so the client counts from the submit's answer (0.1 s after the creation) and sends
        // the first poll at the plan's first poll from there; it reaches the service 0.1 s later.
        var expected = plan.Delay(0) + 0.2;
        Assert.True(Math.Abs(first - expected) <= 0.002, $"the first poll reached the service {first:0.000} s after the job was created; the plan's first poll is {plan.Delay(0):0.000} s, so due at {expected:0.000} s");
    }

    [Fact]
    public async Task A_poll_answered_after_a_transport_retry_is_timed_by_the_attempt_that_answered()
    {
        // As over the slow network above, with the SDK's resilience handler in the pipeline: the third poll's first
        // attempt meets a 503 with Retry-After: 1 s, which the handler waits out before trying again. The answer is the
        // retry's, so the service saw the job when the retry reached it; the next poll is due counted from there, and is
        // sent half the retry's round trip ahead. Timed by the whole exchange (1.4 s), the poll counted as having reached
        // the service 0.6 s before it did, and the next one went out at once, 0.33 s before it was due.
        await using var emulator = await Emu.StartAsync(o => (o.LatencySampler, o.FaultRate) = ((_, _) => 3600, 0), timeScale: 1); // timed exactly: no random faults
        var time = new ManualTimeProvider();
        var oneWay = TimeSpan.FromSeconds(0.1);
        using var wire = new SlowWire(time, oneWay) { InnerHandler = new SocketsHttpHandler(), FailGetAttempt = 3 };
        // The attempt timeout's timer lies beyond what PollUntilAsync moves the clock to.
        var options = Emu.Options(emulator, o =>
        {
            o.Deadline = TimeSpan.FromMinutes(10);
            o.Retry.AttemptTimeout = TimeSpan.FromMinutes(5);
        });
        using var resilience = new NanoBananaResilienceHandler(options.Retry, time) { InnerHandler = wire };
        using var http = new HttpClient(resilience);
        using var client = new NanoBananaClient(options, http, null, time);
        var (_, plan) = await PollThenCancelAsync(client, emulator, time, wire, 6);
        Assert.Equal(1, wire.Failed);
        var arrivals = wire.ArrivalsSinceSubmitAnswer(); // from the submit's answer, as above
        for (var k = 1; k < arrivals.Length; k++)
        {
            var due = arrivals[k - 1] + plan.Delay(arrivals[k - 1]);
            if (k == 2)
            {
                // The retried poll itself reached the service after the 503's round trip and the 1 s wait.
                due += 1.2;
            }

            Assert.True(Math.Abs(arrivals[k] - due) <= 0.002, $"poll {k + 1} reached the service at {arrivals[k]:0.000} s, due at {due:0.000} s; all: {string.Join(" ", arrivals.Select(a => a.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)))}");
        }
    }

    // Starts one job, lets the wire see that many polls, then cancels it. Returns the plan it polled by (taken before
    // the cancellation adds a right-censored wait to the statistics).
    private static async Task<(ImageModel Model, PollPlan Plan)> PollThenCancelAsync(NanoBananaClient client, NanoBanana.Emulator.NanoBananaEmulator emulator, ManualTimeProvider time, SlowWire wire, int polls)
    {
        using var cts = new CancellationTokenSource();
        var job = client.GenerateAsync(new ImageJob("x"), cts.Token);
        await PollUntilAsync(time, wire, job, polls);
        var model = emulator.Jobs.Single().Model;
        var plan = client.LatencyStatistics.GetPlan(model, client.Options.Polling);
        await cts.CancelAsync();
        await Assert.ThrowsAsync<PredictionCanceledException>(() => job.WaitAsync(TimeSpan.FromSeconds(30)));
        return (model, plan);
    }

    // Moves the manual clock exactly to each poll the job schedules until the wire has seen that many polls.
    internal static async Task PollUntilAsync(ManualTimeProvider time, SlowWire wire, Task job, int polls)
    {
        while (wire.PollArrivals.Count < polls)
        {
            // Wait (in real time) for the poller to schedule its next poll, then move the clock exactly to it.
            TimeSpan? next = null;
            for (var spin = 0; spin < 5000 && (next = time.NextTimerWithin(TimeSpan.FromSeconds(30))) is null; spin++)
            {
                Assert.False(job.IsCompleted, "the wait ended early");
                await Task.Delay(1);
            }

            Assert.NotNull(next);
            var before = wire.PollArrivals.Count;
            time.Advance(next.Value);
            for (var spin = 0; spin < 5000 && wire.PollArrivals.Count == before && time.NextTimerWithin(TimeSpan.FromSeconds(30)) is null; spin++)
            {
                await Task.Delay(1);
            }
        }
    }

    // A network where each request takes a fixed time to reach the server and as long to come back, on a manual clock.
    // FailGetAttempt: the n-th GET (1-based) is answered by the wire itself with a 503 and Retry-After: 1 s.
    internal sealed class SlowWire(ManualTimeProvider time, TimeSpan oneWay) : DelegatingHandler
    {
        private int _gets;

        public TimeSpan SubmitSent { get; private set; }

        public System.Collections.Concurrent.ConcurrentQueue<TimeSpan> PollArrivals { get; } = new();

        public int FailGetAttempt { get; init; }

        /// <summary>Extra time a submit spends reaching the server (a large upload, a slow front end).</summary>
        public TimeSpan SubmitUpload { get; init; }

        /// <summary>
        /// When each poll reached the service, as seconds since the last submit's answer came back: where the client
        /// counts a job from while it knows no round trip yet.
        /// </summary>
        public double[] ArrivalsSinceSubmitAnswer() =>
            PollArrivals.Select(t => (t - SubmitSent - SubmitUpload - oneWay - oneWay).TotalSeconds).ToArray();

        public int Failed { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post)
            {
                SubmitSent = TimeSpan.FromTicks(time.GetTimestamp());
                time.Advance(SubmitUpload);
            }

            time.Advance(oneWay);
            if (request.Method == HttpMethod.Get && Interlocked.Increment(ref _gets) == FailGetAttempt)
            {
                Failed++;
                time.Advance(oneWay);
                var busy = new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable) { RequestMessage = request };
                busy.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
                return busy;
            }

            if (request.Method == HttpMethod.Get)
            {
                PollArrivals.Enqueue(TimeSpan.FromTicks(time.GetTimestamp()));
            }

            var response = await base.SendAsync(request, cancellationToken);
            time.Advance(oneWay);
            return response;
        }
    }

    [Fact]
    public void A_job_past_every_observed_completion_is_polled_less_and_less_often()
    {
        var options = new PollingOptions();
        var schedule = new AdaptivePollSchedule(new LatencyStatistics(), options);
        TimeSpan At(double seconds) => schedule.GetNextDelay(new PollScheduleContext(Nb2, TimeSpan.FromSeconds(seconds), 10, PredictionStatus.Processing));
        Assert.True(At(20) > At(9));
        Assert.True(At(60) > At(20));
        Assert.Equal(options.MaxInterval, At(600));
    }

    [Fact]
    public void Live_statistics_feed_the_speed_priority()
    {
        var stats = new LatencyStatistics();
        var policy = new TierPolicy(ModelCatalog.Default, stats);
        Assert.Equal(PreferenceBasis.SpeedCatalog, policy.Route(new JobRequirements { Priority = RoutingPriority.Speed }).Basis);

        foreach (var (tier, seconds) in new[] { (ImageTier.NanoBananaPro, 2.0), (ImageTier.NanoBanana, 3.0), (ImageTier.NanoBanana2, 9.0) })
        {
            for (var i = 0; i < stats.MinSamplesForEstimate; i++)
            {
                stats.RecordExact(ModelCatalog.Default[tier], seconds + (0.01 * i));
            }
        }

        Assert.True(stats.TryGetExpectedLatency(ModelCatalog.Default[ImageTier.NanoBanana2], out var median));
        Assert.InRange(median.TotalSeconds, 8.0, 9.3); // 5 waits at 9 s against a prior worth 3 over 4–8 s, smoothed
        var decision = policy.Route(new JobRequirements { Priority = RoutingPriority.Speed });
        Assert.Equal(PreferenceBasis.SpeedLive, decision.Basis);
        Assert.Equal(ImageTier.NanoBananaPro, decision.Model.Tier);
    }

    [Fact]
    public async Task The_client_learns_completion_times_from_real_runs()
    {
        await using var emulator = await Emu.StartAsync(o => o.FaultRate = 0); // every poll planned: no random faults, so no retried ones
        using var client = Emu.Client(emulator);
        for (var i = 0; i < 3; i++)
        {
            await client.GenerateAsync(new ImageJob("x"));
        }

        var nb2 = client.Catalog[ImageTier.NanoBanana2];
        Assert.Equal(3, client.LatencyStatistics.Count(nb2));
        Assert.False(client.LatencyStatistics.TryGetExpectedLatency(nb2, out _)); // fewer than 5 samples: no estimate yet

        // Every poll of the adaptive schedule was timed against the time its plan gave it.
        Assert.Equal(emulator.Jobs.Sum(j => j.Polls), client.LatencyStatistics.PollTimingCount);
    }

    [Fact]
    public void The_timing_noise_of_polls_is_the_spread_of_how_far_they_land_from_their_plan()
    {
        var stats = new LatencyStatistics();
        for (var i = 0; i < 15; i++)
        {
            stats.RecordPollTiming(0.5);
        }

        Assert.Equal(0, stats.PollTimingSpread()); // too few to say

        // 100 polls landing 0.00 .. 0.99 s late: the 10th to 90th percentile spread is 0.80 s. A constant lateness
        // alone (all 0.5 s late) would be no spread at all.
        var late = new LatencyStatistics();
        for (var i = 0; i < 100; i++)
        {
            late.RecordPollTiming(i / 100.0);
            stats.RecordPollTiming(0.5);
        }

        Assert.Equal(0.80, late.PollTimingSpread(), 9);
        Assert.Equal(0, stats.PollTimingSpread());
        late.RecordPollTiming(double.NaN);
        Assert.Equal(100, late.PollTimingCount);
    }

    [Fact]
    public void A_frugal_budget_counts_the_fixed_loop_as_it_really_runs_on_the_connection()
    {
        // A fixed 2 s loop whose every cycle also spends 0.4 s (round trip + timer lateness) polls every 2.4 s, so it
        // sends fewer polls than an ideal one; the frugal plan's budget follows it.
        var model = ModelCatalog.Default[ImageTier.NanoBanana2];
        var frugal = PollingOptions.Frugal();
        var ideal = new LatencyStatistics();
        var slow = new LatencyStatistics();
        var r = new Random(30);
        for (var i = 0; i < 200; i++)
        {
            var t = 4 + (4 * r.NextDouble());
            ideal.RecordExact(model, t);
            slow.RecordExact(model, t);
        }

        for (var i = 0; i < 15; i++)
        {
            slow.RecordPollCycleOverhead(0.4);
        }

        Assert.Equal(0, slow.PollCycleOverhead()); // too few to say
        slow.RecordPollCycleOverhead(0.4);
        slow.RecordPollCycleOverhead(-1); // not a duration: ignored
        Assert.Equal(0.4, slow.PollCycleOverhead(), 9);

        var idealPlan = ideal.GetPlan(model, frugal);
        var slowPlan = slow.GetPlan(model, frugal);
        Assert.True(slowPlan.ExpectedPolls < idealPlan.ExpectedPolls - 0.1, $"{slowPlan.ExpectedPolls:0.00} vs {idealPlan.ExpectedPolls:0.00} polls");
    }
}

/// <summary>The interval-censored estimator and the optimal planner, on synthetic data (deterministic, no clock).</summary>
public class CompletionTimeEstimationTests
{
    private static readonly ImageModel Nb2 = ModelCatalog.Default[ImageTier.NanoBanana2];

    private static double LogNormal(Random r, double median, double sigma) =>
        median * Math.Exp(sigma * Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));

    // What polling sees of a job that completes at t: polls every `gap` seconds from a random phase; the job is seen
    // running at the last poll before t and completed at the first one after.
    private static CompletionObservation Observe(Random r, double t, double gap)
    {
        var poll = gap * (0.2 + r.NextDouble());
        var last = 0.0;
        while (poll < t)
        {
            last = poll;
            poll += gap * (0.5 + r.NextDouble());
        }

        return new CompletionObservation(last, poll);
    }

    public static TheoryData<string> Shapes() => ["uniform", "lognormal", "two-mode"];

    private static double Draw(string shape, Random r) => shape switch
    {
        "uniform" => 4 + (4 * r.NextDouble()),
        "lognormal" => LogNormal(r, 5.5, 0.45),
        _ => r.NextDouble() < 0.7 ? 4 + (4 * r.NextDouble()) : 2.5 * (4 + (4 * r.NextDouble())),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_estimator_recovers_a_known_distribution_from_interval_censored_waits(string shape)
    {
        var r = new Random(5);
        var truth = Enumerable.Range(0, 20_000).Select(_ => Draw(shape, r)).ToArray();
        var observations = Enumerable.Range(0, 600).Select(_ => Observe(r, Draw(shape, r), 1.5)).ToArray();
        var estimate = IntervalCensoredEstimator.Estimate(observations, 4, 8, priorWeight: 3, halfLife: 10_000);
        var exact = CompletionTimeDistribution.FromSamples(truth, estimate.BinWidth, estimate.Bins);
        var distance = CompletionTimeDistribution.Distance(estimate, exact);
        Assert.True(distance < 0.08, $"KS distance {distance:0.000}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_accelerated_iteration_reaches_the_fixed_point_plain_EM_creeps_to(string shape)
    {
        // The waits of a long-running client: bounds from many successive plans, where plain EM moves slowly (in the
        // steady-service test it used up its 200-step cap in 45–81% of estimates). The accelerated iteration must land
        // on the fixed point plain EM reaches given enough steps.
        var r = new Random(8);
        var stats = new LatencyStatistics();
        WaitDriver.Run(stats, Nb2, [.. Enumerable.Range(0, 400).Select(_ => Draw(shape, r))], inFlight: 8);
        var observations = stats.Observations(Nb2);
        var options = new PollingOptions();
        var accelerated = IntervalCensoredEstimator.Estimate(observations, 4, 8, options.LatencyPriorWeight, options.LatencyHalfLife);
        var converged = IntervalCensoredEstimator.Estimate(observations, 4, 8, options.LatencyPriorWeight, options.LatencyHalfLife, plainSteps: 100_000);
        var distance = CompletionTimeDistribution.Distance(accelerated, converged);
        Assert.True(distance < 1e-5, $"KS to the converged estimate {distance:0.0000000}");
    }

    [Theory]
    [InlineData(0.002)] // every kernel at its floor of half a bin
    [InlineData(0.05)]
    [InlineData(0.5)] // the widest Silverman width allowed, reaching past both ends of the grid
    public void The_kernel_weights_from_the_recurrence_are_the_gaussian_weights(double width)
    {
        // The smoothing computes e^(-d²/2s²) for whole-bin offsets d by a recurrence, one exp per bin; here each weight
        // is computed directly, as it was before, with the same local widths and the mass beyond the grid kept apart.
        var r = new Random(5);
        var p = new double[IntervalCensoredEstimator.Bins + 1];
        for (var j = 0; j < p.Length; j++)
        {
            p[j] = r.NextDouble() < 0.3 ? 0 : r.NextDouble();
        }

        var local = Enumerable.Range(0, IntervalCensoredEstimator.Bins).Select(_ => (1 / 3.0) + (r.NextDouble() * (3 - (1 / 3.0)))).ToArray();
        foreach (var widths in new[] { null, local })
        {
            var smoothed = IntervalCensoredEstimator.Smooth(p, 0.05, width, widths);
            var n = p.Length - 1;
            var direct = new double[p.Length];
            direct[n] = p[n];
            for (var j = 0; j < n; j++)
            {
                var s = Math.Max(width * (widths?[j] ?? 1) * (j + 0.5), 0.5);
                var reach = (int)Math.Ceiling(3 * s);
                var range = Enumerable.Range(Math.Max(0, j - reach), Math.Min(n - 1, j + reach) - Math.Max(0, j - reach) + 1);
                var norm = range.Sum(k => Math.Exp(-0.5 * (k - j) * (k - j) / (s * s)));
                foreach (var k in range)
                {
                    direct[k] += p[j] * Math.Exp(-0.5 * (k - j) * (k - j) / (s * s)) / norm;
                }
            }

            Assert.Equal(p.Sum(), smoothed.Sum(), 9); // the mass is kept
            for (var k = 0; k < p.Length; k++)
            {
                Assert.True(Math.Abs(smoothed[k] - direct[k]) <= 1e-12 * Math.Max(1, direct[k]), $"bin {k}: {smoothed[k]:R} against {direct[k]:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void When_the_first_poll_already_sees_completion_the_estimate_does_not_drift_early_as_midpoints_do(string shape)
    {
        // The situation of the bug: a first poll at 6 s sees most jobs done, so their interval is (0, 6].
        var r = new Random(6);
        var truth = Enumerable.Range(0, 20_000).Select(_ => Draw(shape, r)).ToArray();
        var observations = new List<CompletionObservation>();
        for (var i = 0; i < 400; i++)
        {
            var t = Draw(shape, r);
            var first = 6 + (0.5 * r.NextDouble());
            observations.Add(t <= first ? new CompletionObservation(0, first) : Observe(r, t - first, 1) with { });
            if (t > first)
            {
                var o = observations[^1];
                observations[^1] = new CompletionObservation(first + o.Lower, first + o.Upper);
            }
        }

        var estimate = IntervalCensoredEstimator.Estimate(observations.ToArray(), 4, 8, 3, 10_000);
        var exact = CompletionTimeDistribution.FromSamples(truth, estimate.BinWidth, estimate.Bins);
        var midpoints = CompletionTimeDistribution.FromSamples(observations.Select(o => (o.Lower + o.Upper) / 2).ToArray(), estimate.BinWidth, estimate.Bins);
        var sorted = truth.Order().ToArray();
        var (q05, median) = (sorted[sorted.Length / 20], sorted[sorted.Length / 2]);
        Assert.True(midpoints.Quantile(0.05) < 3.5, $"midpoints' 5th percentile {midpoints.Quantile(0.05):0.00}"); // what the old imputation learnt
        Assert.True(Math.Abs(estimate.Quantile(0.5) - median) < 0.05 * median, $"median {estimate.Quantile(0.5):0.00} s, true {median:0.00} s");
        if (shape == "two-mode")
        {
            // Below the first poll the observations say only how much finished, not when; the estimate lays that mass out
            // as the log-normal fitted to all the waits, which runs past this distribution's hard lower edge (4 s). In a
            // live loop the plan then polls earlier, sees that little finishes there, and the stretch shrinks.
            Assert.True(estimate.Quantile(0.05) > 2, $"5th percentile {estimate.Quantile(0.05):0.00} s, true {q05:0.00} s");
        }
        else
        {
            Assert.True(Math.Abs(estimate.Quantile(0.05) - q05) < 0.5, $"5th percentile {estimate.Quantile(0.05):0.00} s, true {q05:0.00} s");
        }

        var (ours, theirs) = (CompletionTimeDistribution.Distance(estimate, exact), CompletionTimeDistribution.Distance(midpoints, exact));
        Assert.True(ours < theirs, $"KS {ours:0.000} vs midpoints {theirs:0.000}");
    }

    [Fact]
    public void The_log_normal_fit_recovers_its_parameters_from_censored_waits()
    {
        // Every job polled from a first poll at 3.5 s, then about every 0.7 s; a tenth of the waits end at 8 s unfinished.
        var r = new Random(21);
        var observations = new List<CompletionObservation>();
        for (var i = 0; i < 800; i++)
        {
            var t = LogNormal(r, 4.24, 0.45);
            var o = PolledFrom(r, t, 3.5, 0.7);
            observations.Add(i % 10 == 0 && o.Lower >= 8 ? new CompletionObservation(8, double.PositiveInfinity) : o);
        }

        var weights = Enumerable.Repeat(1.0, observations.Count).ToArray();
        var fit = LogNormalFit.Fit(observations.ToArray(), weights, mu: 2, sigma: 1);
        Assert.InRange(Math.Exp(fit.Mu), 4.24 * 0.97, 4.24 * 1.03);
        Assert.InRange(fit.Sigma, 0.45 * 0.9, 0.45 * 1.1);
        Assert.Equal(0.5, fit.Cdf(Math.Exp(fit.Mu)), 6);
        Assert.Equal(0.8413, new LogNormalFit(0, 1).Cdf(Math.E), 3); // Φ(1)
    }

    // Each shape with polls landing ±30 ms off their plan (within the quarter-gap rule) and ±150 ms off (a spread of
    // 0.3 s, wider than any fixed share of the 0.7 s gap allows; the estimator is given the measured spread).
    public static TheoryData<string, double> ShapesAndJitter()
    {
        var data = new TheoryData<string, double>();
        foreach (var jitter in new[] { 0.03, 0.15 })
        {
            foreach (var shape in new[] { "uniform", "lognormal", "two-mode" })
            {
                data.Add(shape, jitter);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ShapesAndJitter))]
    public void Jobs_done_by_the_first_poll_are_not_piled_at_it_when_polls_land_off_their_plan(string shape, double jitter)
    {
        // The HTTP case that made the schedule late on log-normal services: a third of the jobs finish before the first
        // poll, and the first polls of different jobs land a little apart (timer lateness, round trips; at a time scale
        // of 0.1, tens of milliseconds are a third of a poll gap). Between the earliest "still running" and the earliest
        // "done" lies a sliver that satisfies both kinds of wait; the maximum-likelihood estimate put there everything
        // that finished early, so the plan kept its first poll late and never learnt. Bounds closer than a quarter of
        // the gap, or than the measured timing spread of polls, are one bound.
        var r = new Random(jitter < 0.1 ? 22 : 23);
        var truth = Enumerable.Range(0, 20_000).Select(_ => Draw(shape, r)).Order().ToArray();
        var first = truth[truth.Length / 3];
        var observations = Enumerable.Range(0, 200).Select(_ => PolledFrom(r, Draw(shape, r), first, 0.7, jitter)).ToArray();
        var measuredSpread = 0.8 * 2 * jitter; // the p10-p90 spread of a uniform ±jitter
        var estimate = IntervalCensoredEstimator.Estimate(observations, 4, 8, priorWeight: 3, halfLife: 64, timingSpread: jitter < 0.1 ? 0 : measuredSpread);

        var p10 = truth[truth.Length / 10];
        if (shape != "two-mode") // two-mode's hard lower edge: see the test above
        {
            Assert.True(Math.Abs(estimate.Quantile(0.1) - p10) < 0.35, $"{shape}: estimated 10th percentile {estimate.Quantile(0.1):0.00} s, true {p10:0.00} s (first poll {first:0.00} s)");
        }

        // The plan made from it keeps its lag promise over the truth.
        var plan = OptimalPollPlanner.ForLag(estimate, 0.46, 0.25, 10);
        var (lag, _) = plan.Replay(truth);
        Assert.True(lag < 0.46 * 1.12, $"{shape}: lag {lag:0.000} s over the truth for a 0.46 s target");
    }

    // Polls at `first` (± jitter), then every `gap` (± jitter): what a wait sees of a job that completes at t.
    private static CompletionObservation PolledFrom(Random r, double t, double first, double gap, double jitter = 0)
    {
        var poll = first + (jitter * ((2 * r.NextDouble()) - 1));
        var last = 0.0;
        while (poll < t)
        {
            last = poll;
            poll += gap + (jitter * ((2 * r.NextDouble()) - 1));
        }

        return new CompletionObservation(last, poll);
    }

    [Fact]
    public void Right_censored_waits_push_mass_later_instead_of_being_ignored()
    {
        var r = new Random(6);
        var waits = new List<CompletionObservation>();
        for (var i = 0; i < 400; i++)
        {
            var t = 4 + (12 * r.NextDouble()); // 4-16 s, but waits give up at 9.5 s
            waits.Add(t <= 9.5 ? Observe(r, t, 1) : new CompletionObservation(9.5, double.PositiveInfinity));
        }

        // Nothing says where after 9.5 s the censored jobs finished, but they did not finish before: P(T <= 9.5 s)
        // is about (9.5 - 4) / 12 = 0.46, where ignoring them would say 1 (smoothing moves a little of it earlier).
        var estimate = IntervalCensoredEstimator.Estimate(waits.ToArray(), 4, 8, 3, 10_000);
        Assert.True(estimate.Cdf(9.4) is > 0.36 and < 0.70, $"P(T <= 9.4) = {estimate.Cdf(9.4):0.000}");
    }

    [Fact]
    public void Recency_weighting_follows_a_service_that_slowed_down()
    {
        var r = new Random(7);
        var before = Enumerable.Range(0, 300).Select(_ => Observe(r, 4 + (4 * r.NextDouble()), 1));
        var after = Enumerable.Range(0, 50).Select(_ => Observe(r, 8 + (8 * r.NextDouble()), 1));
        var estimate = IntervalCensoredEstimator.Estimate(before.Concat(after).ToArray(), 4, 8, 3, halfLife: 16);
        Assert.InRange(estimate.Quantile(0.5), 10, 14); // the new median is 12 s; the old one 6 s
    }

    [Fact]
    public void The_planned_schedule_costs_no_more_than_any_fixed_or_brute_force_schedule_at_the_same_lag()
    {
        var r = new Random(8);
        var samples = Enumerable.Range(0, 50_000).Select(_ => 4 + (4 * r.NextDouble())).ToArray();
        var d = CompletionTimeDistribution.FromSamples(samples, 0.05, 320);
        var plan = OptimalPollPlanner.ForLag(d, 0.46, 0.25, 10);
        Assert.InRange(plan.ExpectedLag, 0.40, 0.46);

        // Replayed over the samples, the plan meets its own expectation.
        var (lag, polls) = plan.Replay(samples);
        Assert.InRange(lag, plan.ExpectedLag - 0.03, plan.ExpectedLag + 0.03);
        Assert.InRange(polls, plan.ExpectedPolls - 0.1, plan.ExpectedPolls + 0.1);
        Assert.True(plan.PollTimes().First() >= 3.9, $"first poll at {plan.PollTimes().First()}"); // nothing finishes before 4 s

        // Brute force over "wait w, then every g seconds": none reaches the same lag with fewer polls.
        for (var w = 3.0; w <= 5; w += 0.25)
        {
            for (var g = 0.25; g <= 2; g += 0.05)
            {
                var (l, p) = Replay(samples, w, g);
                Assert.False(l <= plan.ExpectedLag && p < polls - 0.05, $"wait {w} then every {g}: lag {l:0.000} polls {p:0.00} vs plan {plan.ExpectedLag:0.000} {polls:0.00}");
            }
        }
    }

    [Fact]
    public void After_the_first_poll_no_wait_is_longer_than_half_the_time_already_waited_or_the_tail_gap()
    {
        // Two spikes far apart: the cheapest plan for this estimate alone would poll once near 4 s and next near 20 s.
        var samples = Enumerable.Repeat(4.0, 900).Concat(Enumerable.Repeat(20.0, 100)).ToArray();
        var d = CompletionTimeDistribution.FromSamples(samples, 0.08, 320);
        // The cap never forbids a gap as short as the tail's: twice the lag target.
        foreach (var (plan, tailGap) in new[] { (OptimalPollPlanner.ForLag(d, 0.46, 0.25, 10), 0.92), (OptimalPollPlanner.ForLag(d, 1.5, 0.25, 10), 3.0) })
        {
            var times = plan.PollTimes().ToArray();
            Assert.True(times.Length >= 5, string.Join(" ", times));
            for (var k = 1; k < times.Length; k++)
            {
                Assert.True(times[k] - times[k - 1] <= Math.Max(0.5 * times[k - 1], tailGap) + 1e-9, $"{times[k - 1]:0.00} -> {times[k]:0.00} in {string.Join(" ", times.Select(t => t.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}");
            }
        }
    }

    [Fact]
    public void A_plan_made_from_a_few_misleading_waits_still_sees_every_job_by_half_again_its_time()
    {
        // Replayed from the simulation (a service three times faster than the catalog says, Nano Banana Pro, 10-20 s):
        // eight jobs done by their first poll at 8.44 s and one seen between 3.38 and 4.13 s. The estimate then puts
        // nearly all of its mass at 3.4-4.1 s and the rest on the catalog's 10-20 s; the plan used to poll at 3.94, 4.31
        // and next at 12.75 s, so jobs of 6.2-6.6 s waited 6-8 s to be seen.
        var observations = Enumerable.Repeat(new CompletionObservation(0, 8.44), 8).Append(new CompletionObservation(3.38, 4.13)).ToArray();
        var estimate = IntervalCensoredEstimator.Estimate(observations, 10, 20, priorWeight: 3, halfLife: 64);
        var plan = OptimalPollPlanner.ForLag(estimate, 0.46, 0.25, 10);
        var first = plan.PollTimes().First();
        foreach (var t in new[] { 5.0, 6.2, 6.6, 8.0, 9.5 })
        {
            var (lag, _) = plan.Replay([t]);
            Assert.True(t + lag <= Math.Max(first, Math.Max(1.5 * t, t + 0.92)) + estimate.BinWidth, $"a job done at {t} s is seen at {t + lag:0.00} s; plan {string.Join(" ", plan.PollTimes().Take(8).Select(x => x.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}");
        }
    }

    [Fact]
    public void A_budget_plan_never_sends_more_than_the_fixed_loop_it_is_measured_against()
    {
        var r = new Random(9);
        var samples = Enumerable.Range(0, 50_000).Select(_ => LogNormal(r, 6, 0.45)).ToArray();
        var d = CompletionTimeDistribution.FromSamples(samples, 0.08, 320);
        var plan = OptimalPollPlanner.ForBudget(d, 2, 1.0, 0.25, 10);
        var (lag, polls) = plan.Replay(samples);
        var (fixedLag, fixedPolls) = Replay(samples, 2, 2);
        Assert.True(polls <= fixedPolls + 0.02, $"polls {polls:0.00} vs fixed 2 s {fixedPolls:0.00}");
        Assert.True(lag < 0.7 * fixedLag, $"lag {lag:0.000} vs fixed 2 s {fixedLag:0.000}");
    }

    [Fact]
    public void The_client_plans_once_per_moved_estimate_not_once_per_poll()
    {
        var stats = new LatencyStatistics();
        var options = new PollingOptions();
        var schedule = new AdaptivePollSchedule(stats, options);
        var context = new PollScheduleContext(Nb2, TimeSpan.FromSeconds(1), 1, PredictionStatus.Processing);
        for (var i = 0; i < 1000; i++)
        {
            schedule.GetNextDelay(context);
        }

        Assert.Equal(1, stats.Replans);
        var r = new Random(10);
        for (var i = 0; i < 200; i++)
        {
            var o = Observe(r, 4 + (4 * r.NextDouble()), 1);
            stats.RecordInterval(Nb2, o.Lower, o.Upper);
            schedule.GetNextDelay(context);
        }

        Assert.InRange(stats.Replans, 2, 60); // replanned only when the estimate moved
    }

    [Fact]
    public void A_budget_reachable_only_by_waiting_out_the_tail_polls_as_the_fixed_loop_does()
    {
        // 97% of jobs done in 1–2 s, 3% in 3–6 s (as when a learned estimate keeps some of the catalog prior): a fixed
        // 2.1 s loop polls once for most jobs, and the only plans 3% under it poll once, after 6 s.
        var r = new Random(3);
        var d = CompletionTimeDistribution.FromSamples([.. Enumerable.Range(0, 20_000).Select(_ => r.NextDouble() < 0.97 ? 1 + r.NextDouble() : 3 + (3 * r.NextDouble()))], 0.03, 320);
        var loop = OptimalPollPlanner.FixedLoop(d, 2.1, 0.25, 10);
        var plan = OptimalPollPlanner.ForBudget(d, 2.1, PollingOptions.BudgetShare, 0.25, 10);

        Assert.True(plan.ExpectedPolls <= loop.ExpectedPolls + 1e-9, $"{plan.ExpectedPolls:0.000} polls against the loop's {loop.ExpectedPolls:0.000}");
        Assert.True(plan.ExpectedLag <= loop.ExpectedLag + 1e-9, $"lag {plan.ExpectedLag:0.000} s against the loop's {loop.ExpectedLag:0.000} s");
        Assert.InRange(plan.PollTimes().First(), 2.0, 2.2);
    }

    [Fact]
    public void A_fixed_loop_as_a_plan_polls_at_every_multiple_of_its_interval()
    {
        var d = CompletionTimeDistribution.FromSamples([4.5], 0.05, 320);
        var loop = OptimalPollPlanner.FixedLoop(d, 2, 0.25, 10);
        Assert.Equal([2.0, 4.0, 6.0], loop.PollTimes().Take(3).Select(t => Math.Round(t, 6)));
        Assert.Equal(3, loop.ExpectedPolls, 6);
        Assert.InRange(loop.ExpectedLag, 1.45, 1.55); // seen at 6 s, done at 4.5 s (the middle of its bin)
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_steady_service_is_never_taken_for_a_changed_one(string shape)
    {
        var r = new Random(11);
        var stats = new LatencyStatistics();
        var at = new List<int>();
        WaitDriver.Run(stats, Nb2, [.. Enumerable.Range(0, 1500).Select(_ => Draw(shape, r))], inFlight: 8, n =>
        {
            if (stats.ChangePoints(Nb2) > at.Count)
            {
                at.Add(n);
            }
        });

        Assert.True(at.Count == 0, $"change points after {string.Join(", ", at)} completions");
    }

    [Fact]
    public void A_few_answers_at_long_odds_are_judged_by_their_tail_not_by_a_z_score()
    {
        // Uniform over 0–100 s: a poll at 9 s of a job running since 0 finds it done with odds 0.09.
        var uniform = new CompletionTimeDistribution(1, [.. Enumerable.Repeat(0.01, 100), 0]);

        // 5 of 8 done at odds 0.09: 5.3 as a z-score, about 3.8 by the tail (over HTTP a steady Pro service gave such runs).
        var detector = new ChangeDetector();
        var answers = new[] { true, false, true, true, false, true, false, true };
        Assert.All(answers, done => Assert.Equal(-1, detector.Judge(0, 9, done, uniform, total: 100, recorded: 100)));

        // 8 still running where the odds of done were 0.9: 8.5 as a z-score, about 6.1 by the tail; a change.
        var refuted = new ChangeDetector();
        var results = Enumerable.Range(0, 8).Select(_ => refuted.Judge(0, 90, false, uniform, total: 100, recorded: 100)).ToArray();
        Assert.Equal(100, results[^1]);
    }

    [Fact]
    public void A_service_a_little_off_its_estimate_is_not_taken_for_a_changed_one()
    {
        // 8% slower than learned: over hundreds of answers that is many standard deviations, but no change worth
        // forgetting what was learned (recency weighting follows it), no more than an estimate's own small misfit is.
        var stats = new LatencyStatistics();
        WaitDriver.Run(stats, Nb2, WaitDriver.Uniform(300, 21, 4, 8), inFlight: 8);
        WaitDriver.Run(stats, Nb2, WaitDriver.Uniform(600, 22, 4.32, 8.64), inFlight: 8);

        Assert.Equal(0, stats.ChangePoints(Nb2));
    }

    [Fact]
    public void An_abrupt_slowdown_is_detected_and_the_old_observations_dropped()
    {
        var r = new Random(12);
        var stats = new LatencyStatistics();
        WaitDriver.Run(stats, Nb2, WaitDriver.Uniform(300, 12, 4, 8), inFlight: 8);
        Assert.Equal(0, stats.ChangePoints(Nb2));

        var detectedAfter = -1;
        var keptThen = 0;
        WaitDriver.Run(stats, Nb2, WaitDriver.Uniform(60, 13, 6.4, 12.8), inFlight: 8, n => // the service now takes 6.4–12.8 s
        {
            if (detectedAfter < 0 && stats.ChangePoints(Nb2) > 0)
            {
                detectedAfter = n;
                keptThen = stats.Count(Nb2);
            }
        });

        Assert.InRange(detectedAfter, 16, 28); // detected within the first answers, dropped once 16 new waits can carry the estimate
        Assert.True(keptThen <= detectedAfter + 8, $"kept {keptThen} observations {detectedAfter} completions after the change (8 in flight)");
        Assert.Equal(1, stats.ChangePoints(Nb2));
        Assert.InRange(stats.GetEstimate(Nb2).Quantile(0.5), 8.6, 10.6); // the new median is 9.6 s
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_plan_from_a_hundred_waits_costs_close_to_the_optimum_over_the_truth(string shape)
    {
        // The raw NPMLE of a hundred waits has gaps between its mass points; a plan optimised for it skips them and
        // pays in lag where the next jobs finish. Smoothed, the plan costs close to the best possible.
        var r = new Random(13);
        var truth = Enumerable.Range(0, 20_000).Select(_ => Draw(shape, r)).ToArray();
        var excess = 0.0;
        const int trials = 6;
        for (var trial = 0; trial < trials; trial++)
        {
            var observations = Enumerable.Range(0, 100).Select(_ => Observe(r, Draw(shape, r), 1)).ToArray();
            var estimate = IntervalCensoredEstimator.Estimate(observations, 4, 8, priorWeight: 3, halfLife: 64);
            var plan = OptimalPollPlanner.ForLag(estimate, 0.46, 0.25, 10);
            var (lag, polls) = plan.Replay(truth);
            var exact = CompletionTimeDistribution.FromSamples(truth, truth.Max() * 1.25 / 4000, 4000);
            var best = OptimalPollPlanner.ForLag(exact, lag, 0.25, 10).ExpectedPolls;
            excess += ((polls / best) - 1) / trials;
        }

        // Measured: uniform 0.2%, lognormal 1.0%, two-mode 15.5% (the raw NPMLE, smoothed by a fixed five-bin
        // kernel as before: 1.4%, 9.3%, 13.4%). The gap between two modes is blurred by any smoothing; that case
        // stays the known weak spot.
        var limit = shape == "two-mode" ? 0.20 : 0.05;
        Assert.True(excess < limit, $"{shape}: plans {100 * excess:0.0}% over the optimum at their own lag, on average");
    }

    private static (double Lag, double Polls) Replay(double[] samples, double wait, double gap)
    {
        double lag = 0, polls = 0;
        foreach (var t in samples)
        {
            var at = wait;
            polls++;
            while (at < t)
            {
                at += gap;
                polls++;
            }

            lag += at - t;
        }

        return (lag / samples.Length, polls / samples.Length);
    }
}
