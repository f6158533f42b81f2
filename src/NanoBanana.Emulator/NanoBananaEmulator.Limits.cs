using System.Diagnostics;
using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

// Account limits (WaveSpeed publishes concurrent tasks and images per minute per level) and what a batch harness
// needs to check them: the most jobs accepted in any window, the most running at once, accepted submits per prompt.
public sealed partial class NanoBananaEmulator
{
    private readonly object _admission = new();
    private readonly List<long> _acceptedAt = [];

    private bool TryAdmit(ImageModel model, ParsedRequest request, bool unified, out JobRecord job, out string? refusal)
    {
        lock (_admission)
        {
            if (_options.AccountLimits is { } limits)
            {
                var now = Stopwatch.GetTimestamp();
                var running = _jobs.Values.Count(j => !j.IsDone(now));
                if (running >= limits.ConcurrentTasks)
                {
                    job = null!;
                    refusal = $"too many concurrent tasks: {running} running, the account allows {limits.ConcurrentTasks}";
                    return false;
                }

                var windowStart = now - Ticks(limits.Window.TotalSeconds * _options.TimeScale);
                var inWindow = 0;
                for (var i = _acceptedAt.Count - 1; i >= 0 && _acceptedAt[i] > windowStart; i--)
                {
                    inWindow++;
                }

                if (inWindow >= limits.ImagesPerWindow)
                {
                    job = null!;
                    refusal = $"rate limit exceeded: {inWindow} images in the last window, the account allows {limits.ImagesPerWindow}";
                    return false;
                }
            }

            job = CreateJob(model, request, unified);
            _acceptedAt.Add(job.CreatedTimestamp);
            refusal = null;
            return true;
        }
    }

    /// <summary>The most submits accepted within any span of <paramref name="window"/> (real time), over the emulator's life.</summary>
    public int MaxAcceptedInAnyWindow(TimeSpan window)
    {
        long[] times;
        lock (_admission)
        {
            times = [.. _acceptedAt];
        }

        var span = Ticks(window.TotalSeconds);
        var best = 0;
        for (int start = 0, end = 0; end < times.Length; end++)
        {
            while (times[end] - times[start] >= span)
            {
                start++;
            }

            best = Math.Max(best, end - start + 1);
        }

        return best;
    }

    /// <summary>The most jobs that were running (accepted, not yet complete) at one moment, over the jobs kept.</summary>
    public int MaxConcurrentJobs()
    {
        var events = _jobs.Values.Where(j => j.Fate != JobFate.Never)
            .SelectMany(j => new[] { (j.CreatedTimestamp, 1), (j.CompleteTimestamp, -1) })
            .OrderBy(e => e.Item1).ThenBy(e => e.Item2).ToList();
        int now = 0, best = 0;
        foreach (var (_, change) in events)
        {
            now += change;
            best = Math.Max(best, now);
        }

        return best;
    }

    /// <summary>Accepted submits per prompt, over the jobs kept (<see cref="EmulatorOptions.MaxRetainedJobs"/>): a count above 1 means the same job was paid for twice.</summary>
    public IReadOnlyDictionary<string, int> AcceptedPerPrompt() =>
        _jobs.Values.GroupBy(j => j.Prompt, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
}
