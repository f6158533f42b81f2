using NanoBanana.Catalog;
using NanoBanana.Emulator;
using static NanoBanana.Benchmarks.BenchmarkText;

namespace NanoBanana.Benchmarks;

/// <summary>
/// What saved completion times buy a restarted process (<c>polling-restart</c>). Per case × tier, a default client
/// learns on 130 jobs and saves what it learned (<see cref="NanoBananaClient.SaveCompletionTimesAsync"/>). Then, for
/// each of <see cref="Restarts"/> new job sets (other emulator seeds), the first 30 jobs of a new process are run by a
/// fresh client and by one that loaded the saved times, for the default and the frugal schedule, beside fixed 1 s and
/// 2 s on the same jobs. Requests are also given as a share of the optimum's plan for the lag target on the same jobs.
/// Two "stale" cases restart against a service that changed since the file was saved. Same emulator settings as the
/// polling harness (time scale 0.1, no executionTime, 8 jobs in flight); NB_ONLY filters ("case:tier").
/// </summary>
internal static class RestartHarness
{
    private const int Learn = 130;
    private const int FirstJobs = 30;
    private const int Restarts = 2;

    private static readonly LatencyProfile Faster = new() { Shape = LatencyShape.Drift, DriftAfterJobs = 0, DriftFactor = 1 / 3.0 };

    // Learned on the first profile, restarted against the second.
    private static readonly (string Name, LatencyProfile Learned, LatencyProfile Now)[] Cases =
    [
        .. LatencyShapes.Harness.Where(s => !LatencyShapes.Drifts(s.Profile)).Select(s => (s.Name, s.Profile, s.Profile)),
        .. LatencyShapes.Adversary.Where(s => s.Profile.Shape == LatencyShape.Drift).Select(s => (s.Name, s.Profile, s.Profile)),
        ("stale: learned uniform, now 1.6× slower", new LatencyProfile(), new LatencyProfile { Shape = LatencyShape.Drift, DriftAfterJobs = 0, DriftFactor = 1.6 }),
        ("stale: learned 3× faster, now the catalog's", Faster, new LatencyProfile()),
    ];

    public static async Task<int> RunAsync()
    {
        var only = Environment.GetEnvironmentVariable("NB_ONLY");
        Console.WriteLine($"Restart harness: time scale {PollingHarness.Scale}, learn {Learn} jobs, then the first {FirstJobs} jobs of {Restarts} restarts (seeds 11..), fresh vs restored.");
        var lines = new List<string>
        {
            "| case | model | strategy | fresh req/job | fresh lag (s) | restored req/job | restored lag (s) | fresh / optimum's plan | restored / optimum's plan |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        };
        foreach (var (name, learned, now) in Cases)
        {
            foreach (var tier in LatencyShapes.Tiers)
            {
                if (only is not null && !$"{name}:{tier}".Contains(only, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                using var saved = new MemoryStream();
                var learning = await PollingHarness.RunAsync(learned, tier, "default", Learn, save: saved);
                var bytes = saved.ToArray();
                var reference = PollingOptimum.PlanForTarget(now, ModelCatalog.Default[tier]);
                var runs = new Dictionary<string, List<PollingHarness.Job>>();
                for (var r = 0; r < Restarts; r++)
                {
                    var seed = 11 + r;
                    string[] arms = ["default fresh", "default restored", "fixed 1 s", "fixed 2 s", "frugal fresh", "frugal restored"];

                    // Four at a time, as in the polling harness, so that timing noise is alike.
                    foreach (var batch in arms.Chunk(4))
                    {
                        var results = await Task.WhenAll(batch.Select(a => PollingHarness.RunAsync(now, tier, a.Split(' ')[0] is "fixed" ? a : a.Split(' ')[0], FirstJobs, seed, a.EndsWith("restored", StringComparison.Ordinal) ? bytes : null)));
                        foreach (var (arm, jobs) in batch.Zip(results))
                        {
                            (runs.TryGetValue(arm, out var list) ? list : runs[arm] = []).AddRange(jobs);
                        }
                    }
                }

                double OnOptimum(List<PollingHarness.Job> jobs) =>
                    jobs.Average(j => j.Requests) / jobs.Average(j => 1 + reference.Replay([j.Truth / PollingHarness.Scale]).Polls);
                var warm = PollingHarness.Window.Of(learning.Skip(FirstJobs));
                Console.WriteLine(F($"  {name} {tier}: learned on {Learn} jobs ({bytes.Length} bytes saved); its own jobs 30..{Learn}: {warm.Requests:0.00} req at {warm.Lag:0.000} s"));
                foreach (var s in new[] { "default", "frugal" })
                {
                    var fresh = runs[$"{s} fresh"];
                    var restored = runs[$"{s} restored"];
                    var f = PollingHarness.Window.Of(fresh);
                    var r = PollingHarness.Window.Of(restored);
                    lines.Add(F($"| {name} | {tier} | {s} | {f.Requests:0.00} | {f.Lag:0.000} | {r.Requests:0.00} | {r.Lag:0.000} | {100 * OnOptimum(fresh):0}% | {100 * OnOptimum(restored):0}% |"));
                }

                foreach (var s in new[] { "fixed 1 s", "fixed 2 s" })
                {
                    var w = PollingHarness.Window.Of(runs[s]);
                    lines.Add(F($"| {name} | {tier} | {s} | {w.Requests:0.00} | {w.Lag:0.000} | | | {100 * OnOptimum(runs[s]):0}% | |"));
                }
            }
        }

        Console.WriteLine();
        foreach (var line in lines)
        {
            Console.WriteLine(line);
        }

        return 0;
    }
}
