using System.Globalization;

namespace NanoBanana.Polling;

/// <summary>How the SDK waits for a prediction.</summary>
public sealed class PollingOptions
{
    /// <summary>
    /// The mean detection lag (completion at the service → result in the caller) the default schedule aims for.
    /// Smaller means more polls. Default 0.46 s, a little better than a fixed 1 s loop (0.5 s), with far fewer requests.
    /// </summary>
    public TimeSpan TargetMeanLag { get; set; } = TimeSpan.FromMilliseconds(460);

    /// <summary>The shortest gap between two polls of one job. Default 250 ms.</summary>
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest gap between two polls of one job. Default 10 s.</summary>
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Completion times remembered per model to learn the schedule. Default 1,000. A large window matters for batches:
    /// the most recent completions of a burst are biased (short ones first, long ones last), a wide window is not.
    /// </summary>
    public int LatencyWindow { get; set; } = 1000;

    /// <summary>
    /// Recency weighting of what waits observed: an observation counts half after this many newer ones, so a service
    /// that drifts slowly is followed (an abrupt change is detected and the older observations dropped). Default 64.
    /// </summary>
    public double LatencyHalfLife { get; set; } = 64;

    /// <summary>How many observations the catalog's typical latency range is worth as a prior. Default 3.</summary>
    public double LatencyPriorWeight { get; set; } = 3;

    /// <summary>
    /// A file in which the client keeps what it learned about completion times, so that after a restart it polls like a
    /// warm client from its first job instead of starting again from the catalog's typical range (a fresh client's first
    /// ~30 jobs cost more requests, or more lag when the service is faster than the catalog says). Read when the client
    /// is built; written after every 16 new observations and when the client is disposed, by replacing the file whole.
    /// A file learned from another service (scheme, host and port), or one that cannot be read, is logged and ignored.
    /// It holds model ids and wait times only, nothing secret. Null (default): nothing is kept. The same data as
    /// <see cref="NanoBananaClient.SaveCompletionTimesAsync"/>.
    /// </summary>
    public string? CompletionTimesFile { get; set; }

    // Frugal plans stay this far under the fixed loop's polls (live polls see timing overheads a plan does not).
    internal const double BudgetShare = 0.97;

    /// <summary>Consecutive unreadable poll bodies tolerated before the error is reported. Default 3.</summary>
    public int MaxConsecutiveMalformed { get; set; } = 3;

    /// <summary>Consecutive failed polls (after transport retries) tolerated before the error is reported. Default 3.</summary>
    public int MaxConsecutivePollFailures { get; set; } = 3;

    /// <summary>
    /// How many more times a wait polls a prediction the service reported <c>completed</c> without outputs before it
    /// ends in <see cref="PredictionFailedException"/> ("completed without outputs"). A relay that marks a job done
    /// before it has stored the outputs answers so for a moment; taken at its word, a paid job whose image exists would
    /// fail. The polls go out <see cref="MinInterval"/> × 2, × 4, × 8 … after the answer (0.5, 1 and 2 s by default),
    /// only while they fit before the deadline, and teach the schedule nothing (the job completed when it was first
    /// reported so). Default 3; 0 takes the first such answer as final.
    /// </summary>
    public int EmptyCompletionRechecks { get; set; } = 3;

    // The most rechecks a wait may be asked for: the last one goes out MinInterval × 2^MaxEmptyCompletionRechecks after
    // the one before.
    internal const int MaxEmptyCompletionRechecks = 8;

    /// <summary>
    /// Budget mode: when set, the adaptive schedule sends no more polls per job than a fixed loop at this interval
    /// would on the learned completion-time distribution (planned 3% under it), placed to minimise detection lag; when
    /// no plan under it has less lag than the loop itself (a service much faster than the interval), the loop's polls. The
    /// fixed loop is taken as it really runs on this connection: each cycle is the interval plus the measured round trip
    /// and timer lateness.
    /// <see cref="TargetMeanLag"/> is then ignored. Null (default) uses the lag target.
    /// </summary>
    public TimeSpan? PollBudgetInterval { get; set; }

    /// <summary>A frugal preset: no more polls than a fixed 2 s loop, placed where completions are likely.</summary>
    public static PollingOptions Frugal() => new() { PollBudgetInterval = TimeSpan.FromSeconds(2) };

    internal IEnumerable<string> Validate(string path)
    {
        if (TargetMeanLag <= TimeSpan.Zero)
        {
            yield return $"{path}:TargetMeanLag must be positive.";
        }

        if (PollBudgetInterval is { } budget && budget <= TimeSpan.Zero)
        {
            yield return $"{path}:PollBudgetInterval must be positive when set.";
        }

        if (MinInterval <= TimeSpan.Zero || MaxInterval < MinInterval)
        {
            yield return $"{path}: need 0 < MinInterval <= MaxInterval (got {MinInterval} and {MaxInterval}).";
        }

        if (LatencyWindow is < LatencyStatistics.MinWindow or > LatencyStatistics.MaxWindow)
        {
            yield return $"{path}:LatencyWindow must be between {LatencyStatistics.MinWindow} and {LatencyStatistics.MaxWindow.ToString("N0", CultureInfo.InvariantCulture)} (got {LatencyWindow}).";
        }

        if (!(LatencyHalfLife is >= 1 and <= LatencyStatistics.MaxWeight))
        {
            yield return $"{path}:LatencyHalfLife must be between 1 and {LatencyStatistics.MaxWeight.ToString("N0", CultureInfo.InvariantCulture)} observations (got {LatencyHalfLife.ToString(CultureInfo.InvariantCulture)}).";
        }

        if (!(LatencyPriorWeight is > 0 and <= LatencyStatistics.MaxWeight))
        {
            yield return $"{path}:LatencyPriorWeight must be positive and at most {LatencyStatistics.MaxWeight.ToString("N0", CultureInfo.InvariantCulture)} observations (got {LatencyPriorWeight.ToString(CultureInfo.InvariantCulture)}).";
        }

        if (CompletionTimesFile is { } file && (string.IsNullOrWhiteSpace(file) || file.IndexOfAny(Path.GetInvalidPathChars()) >= 0))
        {
            yield return $"{path}:CompletionTimesFile must be a file path when set (got '{file}').";
        }
        else if (CompletionTimesFile is { } times && ReplaceProblem(times) is { } problem)
        {
            yield return $"{path}:CompletionTimesFile: {problem}";
        }

        if (MaxConsecutiveMalformed < 0 || MaxConsecutivePollFailures < 0)
        {
            yield return $"{path}: MaxConsecutiveMalformed and MaxConsecutivePollFailures must be zero or more.";
        }

        if (EmptyCompletionRechecks is < 0 or > MaxEmptyCompletionRechecks)
        {
            yield return $"{path}:EmptyCompletionRechecks must be between 0 and {MaxEmptyCompletionRechecks} (got {EmptyCompletionRechecks}).";
        }
    }

    private static string? ReplaceProblem(string file)
    {
        try
        {
            Diagnostics.ReplaceableFile.Resolve(file);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return ex.Message;
        }
    }

    /// <summary>A copy that later changes to this object do not reach.</summary>
    internal PollingOptions Snapshot() => (PollingOptions)MemberwiseClone();
}
