using NanoBanana.Catalog;
using NanoBanana.Polling;

namespace NanoBanana.Tests;

/// <summary>
/// Jobs of known true completion times waited for as the client's waiter does, without HTTP or clocks: each job polls
/// by the statistics' current plan, every poll answer is reported (<see cref="LatencyStatistics.RecordPollOutcome"/>,
/// against the estimate of the job's first poll)
/// and every completion recorded as an interval. <c>inFlight</c> jobs run at once, a new one starting when one finishes
/// (all of them at once: a burst, whose first completions are its shortest jobs).
/// </summary>
internal static class WaitDriver
{
    /// <summary>Runs the jobs; <paramref name="completed"/> is called after each completion with how many have completed.</summary>
    public static void Run(LatencyStatistics stats, ImageModel model, IReadOnlyList<double> truths, int inFlight, Action<int>? completed = null)
    {
        var options = new PollingOptions();
        var since = new double[truths.Count];
        var start = new double[truths.Count];
        var basis = new LatencyStatistics.JudgeBasis?[truths.Count];
        var queue = new PriorityQueue<int, double>();
        var started = 0;
        var completions = 0;
        void Poll(int job) => queue.Enqueue(job, start[job] + since[job] + stats.GetPlan(model, options).Delay(since[job]));
        void Start(double now)
        {
            if (started < truths.Count)
            {
                start[started] = now;
                Poll(started++);
            }
        }

        for (var i = 0; i < inFlight; i++)
        {
            Start(0);
        }

        while (queue.TryDequeue(out var j, out var now))
        {
            var at = now - start[j];
            var done = truths[j] <= at;
            basis[j] ??= stats.Basis(model);
            stats.RecordPollOutcome(model, basis[j], since[j], at, done);
            if (!done)
            {
                since[j] = at;
                Poll(j);
                continue;
            }

            stats.RecordInterval(model, since[j], at);
            completed?.Invoke(++completions);
            Start(now);
        }
    }

    /// <summary>Uniform true times in [low, high).</summary>
    public static double[] Uniform(int jobs, int seed, double low, double high)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, jobs).Select(_ => low + ((high - low) * random.NextDouble()))];
    }
}
