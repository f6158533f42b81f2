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
            stats.Record(Nb2, TimeSpan.FromSeconds(x));
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
            stats.Record(Nb2, TimeSpan.FromSeconds(x));
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

        // The model turns out to answer in 1-2 s: the first poll moves earlier.
        var random = new Random(3);
        foreach (var x in Uniform(random, 200, 1, 2))
        {
            stats.Record(Nb2, TimeSpan.FromSeconds(x));
        }

        var learned = schedule.GetNextDelay(new PollScheduleContext(Nb2, TimeSpan.Zero, 0, PredictionStatus.Created));
        Assert.InRange(learned, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
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
                stats.Record(ModelCatalog.Default[tier], TimeSpan.FromSeconds(seconds + (0.01 * i)));
            }
        }

        Assert.True(stats.TryGetExpectedLatency(ModelCatalog.Default[ImageTier.NanoBanana2], out var median));
        Assert.Equal(9.02, median.TotalSeconds, 3);
        var decision = policy.Route(new JobRequirements { Priority = RoutingPriority.Speed });
        Assert.Equal(PreferenceBasis.SpeedLive, decision.Basis);
        Assert.Equal(ImageTier.NanoBananaPro, decision.Model.Tier);
    }

    [Fact]
    public async Task The_client_learns_completion_times_from_real_runs()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        for (var i = 0; i < 3; i++)
        {
            await client.GenerateAsync(new ImageJob("x"));
        }

        var nb2 = client.Catalog[ImageTier.NanoBanana2];
        Assert.Equal(3, client.LatencyStatistics.Count(nb2));
        Assert.False(client.LatencyStatistics.TryGetExpectedLatency(nb2, out _)); // fewer than 5 samples: no estimate yet
    }
}
