using System.Globalization;
using NanoBanana.Catalog;
using NanoBanana.Polling;
using NanoBanana.Soak;

namespace NanoBanana.Benchmarks;

/// <summary>Replays the adaptive schedule against synthetic completion times without HTTP: the algorithm alone.</summary>
internal static class ScheduleSimulation
{
    public static int Run()
    {
        var model = ModelCatalog.Default[ImageTier.NanoBanana2];
        var random = new Random(3);
        var sigma = double.Parse(Environment.GetEnvironmentVariable("NB_SIGMA") ?? "0.5", CultureInfo.InvariantCulture);
        double Sample(string dist) => dist == "uniform" ? 4 + (4 * random.NextDouble()) : 6 * Math.Exp(sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        foreach (var dist in new[] { "uniform", "lognormal" })
        {
            var target = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("NB_TARGET") ?? "0.45", CultureInfo.InvariantCulture));
            foreach (var options in new[] { new PollingOptions { TargetMeanLag = target }, PollingOptions.Frugal() })
            {
                var stats = new LatencyStatistics(options.LatencyWindow, options.MinLiveSamples);
                for (var i = 0; i < 1000; i++)
                {
                    stats.Record(model, TimeSpan.FromSeconds(Sample(dist)));
                }

                var schedule = new AdaptivePollSchedule(stats, options);
                var fixed1 = new FixedPollSchedule(TimeSpan.FromSeconds(1));
                var fixed2 = new FixedPollSchedule(TimeSpan.FromSeconds(2));
                double lag = 0, polls = 0, fixedPolls = 0, fixedLag = 0, fixed2Polls = 0, fixed2Lag = 0;
                var buckets = new SortedDictionary<int, (int N, double Polls, double Lag)>();
                const int n = 5000;
                for (var i = 0; i < n; i++)
                {
                    var completion = Sample(dist);
                    var (l, p) = ScheduleReplay.Run(schedule, model, completion);
                    lag += l;
                    polls += p;
                    var b = (int)Math.Floor(completion);
                    buckets.TryGetValue(b, out var acc);
                    buckets[b] = (acc.N + 1, acc.Polls + p, acc.Lag + l);
                    var (l1, p1) = ScheduleReplay.Run(fixed1, model, completion);
                    (fixedLag, fixedPolls) = (fixedLag + l1, fixedPolls + p1);
                    var (l2, p2) = ScheduleReplay.Run(fixed2, model, completion);
                    (fixed2Lag, fixed2Polls) = (fixed2Lag + l2, fixed2Polls + p2);
                }

                Console.WriteLine("    by latency bucket (s: n polls lag): " + string.Join("  ", buckets.Take(14).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}: {kv.Value.N} {kv.Value.Polls / kv.Value.N:0.0} {kv.Value.Lag / kv.Value.N:0.00}"))));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{dist,-9} {(options.PollBudgetInterval is null ? "default" : "frugal ")}: lag {lag / n:0.000} s, requests {1 + (polls / n):0.00} | fixed 1 s: lag {fixedLag / n:0.000}, requests {1 + (fixedPolls / n):0.00} | fixed 2 s: lag {fixed2Lag / n:0.000}, requests {1 + (fixed2Polls / n):0.00}"));
            }
        }

        return 0;
    }
}
