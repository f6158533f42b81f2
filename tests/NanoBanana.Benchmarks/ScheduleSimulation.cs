using System.Globalization;
using NanoBanana.Catalog;
using NanoBanana.Polling;
using NanoBanana.Protocol;

namespace NanoBanana.Benchmarks;

/// <summary>Replays the adaptive schedule against synthetic completion times without HTTP: the algorithm alone.</summary>
internal static class ScheduleSimulation
{
    public static int Run()
    {
        var model = ModelCatalog.Default[ImageTier.NanoBanana2];
        var random = new Random(3);
        double Sample(string dist) => dist == "uniform" ? 4 + (4 * random.NextDouble()) : 6 * Math.Exp(0.5 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        foreach (var dist in new[] { "uniform", "lognormal" })
        {
            foreach (var options in new[] { new PollingOptions(), PollingOptions.Frugal() })
            {
                var stats = new LatencyStatistics(options.LatencyWindow, options.MinLiveSamples);
                for (var i = 0; i < 1000; i++)
                {
                    stats.Record(model, TimeSpan.FromSeconds(Sample(dist)));
                }

                var schedule = new AdaptivePollSchedule(stats, options);
                double lag = 0, polls = 0, fixedPolls = 0, fixedLag = 0;
                var buckets = new SortedDictionary<int, (int N, double Polls, double Lag)>();
                const int n = 5000;
                for (var i = 0; i < n; i++)
                {
                    var completion = Sample(dist);
                    var t = 0.0;
                    var p = 0;
                    while (t < completion)
                    {
                        t += schedule.GetNextDelay(new PollScheduleContext(model, TimeSpan.FromSeconds(t), p, PredictionStatus.Processing)).TotalSeconds;
                        p++;
                    }

                    lag += t - completion;
                    var b = (int)Math.Floor(completion);
                    buckets.TryGetValue(b, out var acc);
                    buckets[b] = (acc.N + 1, acc.Polls + p, acc.Lag + t - completion);
                    polls += p;
                    fixedPolls += Math.Ceiling(completion);
                    fixedLag += Math.Ceiling(completion) - completion;
                }

                Console.WriteLine("    by latency bucket (s: n polls lag): " + string.Join("  ", buckets.Take(14).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}: {kv.Value.N} {kv.Value.Polls / kv.Value.N:0.0} {kv.Value.Lag / kv.Value.N:0.00}"))));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{dist,-9} target {options.TargetMeanLag.TotalSeconds:0.00}: lag {lag / n:0.000} s, requests {1 + (polls / n):0.00} | fixed 1 s: lag {fixedLag / n:0.000}, requests {1 + (fixedPolls / n):0.00}"));
            }
        }

        return 0;
    }
}
