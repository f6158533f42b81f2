using NanoBanana.Catalog;
using NanoBanana.Polling;
using NanoBanana.Protocol;

namespace NanoBanana.Soak;

/// <summary>Replays a poll schedule against a known completion time, without HTTP. Shared by tests and benchmarks.</summary>
public static class ScheduleReplay
{
    /// <summary>Polls until the (simulated) completion is seen: the detection lag and the polls it took.</summary>
    public static (double Lag, int Polls) Run(IPollSchedule schedule, ImageModel model, double completionSeconds)
    {
        var t = 0.0;
        var polls = 0;
        while (t < completionSeconds)
        {
            t += schedule.GetNextDelay(new PollScheduleContext(model, TimeSpan.FromSeconds(t), polls, PredictionStatus.Processing)).TotalSeconds;
            polls++;
        }

        return (t - completionSeconds, polls);
    }

    /// <summary>Mean lag and mean polls over many completion times.</summary>
    public static (double Lag, double Polls) Mean(IPollSchedule schedule, ImageModel model, IEnumerable<double> completions)
    {
        double lag = 0, polls = 0;
        var n = 0;
        foreach (var completion in completions)
        {
            var (l, p) = Run(schedule, model, completion);
            lag += l;
            polls += p;
            n++;
        }

        return (lag / n, polls / n);
    }
}
