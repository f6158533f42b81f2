namespace NanoBanana.Polling;

/// <summary>
/// Exploration below the first poll. Polling only sees that a job was done by its first poll, never when: if many jobs
/// are (the first-poll trap), the estimate below the first poll is the shape of a fit to the later polls, which can
/// pile that mass just below it, so the plan underrates those jobs' lag and keeps its first poll late. While that
/// stretch holds a large share of the mass and recent observations have almost no bound inside it, a few jobs poll
/// first earlier (a probe), which splits the stretch; once enough bounds are there the probes stop. In budget mode there
/// are no probes: each one is a poll the budget did not plan.
/// </summary>
internal static class FirstPollProbe
{
    /// <summary>The share of the estimated mass before the first poll from which probing is considered.</summary>
    public const double MassBefore = 0.4;

    /// <summary>Bounds inside the stretch (among the newest <see cref="Window"/> observations) that make it explored.</summary>
    public const int Enough = 8;

    /// <summary>How many recent observations, and recent first polls, the two counts look at.</summary>
    public const int Window = 64;

    /// <summary>Where a probe polls, as a share of the planned first poll.</summary>
    public const double Share = 0.8;

    // A bound counts as inside the stretch when it lies below this share of the first poll.
    private const double Inside = 0.9;

    /// <summary>
    /// The time (seconds after the submit) at which a job should poll first to explore, or 0 for no probe.
    /// </summary>
    /// <param name="firstPoll">The plan's first poll.</param>
    /// <param name="massBefore">The estimated probability that a job is done by then.</param>
    /// <param name="newestLast">The observations, oldest first.</param>
    /// <param name="min">The least delay allowed before a poll.</param>
    public static double Time(double firstPoll, double massBefore, ReadOnlySpan<CompletionObservation> newestLast, double min)
    {
        if (!(massBefore >= MassBefore) || !(firstPoll > 0) || Share * firstPoll < min)
        {
            return 0;
        }

        var limit = Inside * firstPoll;
        var inside = 0;
        foreach (var o in newestLast[Math.Max(0, newestLast.Length - Window)..])
        {
            if ((o.Lower > 0 && o.Lower < limit) || (o.Upper > 0 && o.Upper < limit))
            {
                inside++;
            }
        }

        return inside < Enough ? Share * firstPoll : 0;
    }

    /// <summary>
    /// Allows at most <see cref="Enough"/> probes among the newest <see cref="Window"/> first polls, so that a burst of
    /// submits in the trap does not probe all at once before the first probes' answers are in. Thread-safe.
    /// </summary>
    internal sealed class Limiter
    {
        private readonly Queue<long> _probes = new();
        private long _firstPolls;

        /// <summary>Counts one first poll; true when it may probe.</summary>
        public bool TryTake(bool wanted)
        {
            lock (_probes)
            {
                _firstPolls++;
                while (_probes.Count > 0 && _probes.Peek() <= _firstPolls - Window)
                {
                    _probes.Dequeue();
                }

                if (!wanted || _probes.Count >= Enough)
                {
                    return false;
                }

                _probes.Enqueue(_firstPolls);
                return true;
            }
        }
    }
}
