using NanoBanana.Catalog;
using NanoBanana.Protocol;

namespace NanoBanana.Polling;

/// <summary>The mutable state of one prediction being waited on.</summary>
internal sealed class PollState
{
    public required string Id { get; init; }

    /// <summary>The id as log lines carry it: on one line, with nothing that acts on a terminal (the id is the service's text).</summary>
    public string LogId => _logId ??= Diagnostics.SafeText.Value(Id);

    private string? _logId;

    public required ImageModel Model { get; init; }

    public Uri? PollUrl { get; set; }

    /// <summary>TimeProvider timestamp of the submit (or the estimated one for a resumed prediction).</summary>
    public long StartTimestamp { get; init; }

    public int PollCount { get; set; }

    public int Attempt { get; init; } = 1;

    public double LastPendingElapsed { get; set; }

    /// <summary>The round trip (seconds) of the poll that gave <see cref="LastPendingElapsed"/>: that answer's moment is known to within it.</summary>
    public double LastPendingRoundTrip { get; set; }

    public Prediction? Latest { get; set; }

    /// <summary>Whether a poll answer of this wait named a prediction other than <see cref="Id"/> (warned once per wait).</summary>
    public bool AnswerNamedOtherId { get; set; }

    /// <summary>
    /// Seconds after the start at which the schedule meant the next poll to reach the service, or NaN when the schedule
    /// does not plan arrivals. Compared with when the poll did arrive, it measures the timing noise of polls.
    /// </summary>
    public double PlannedArrival { get; set; } = double.NaN;

    /// <summary>TimeProvider timestamp at which the next poll should leave after its delay, or 0 (unscheduled poll).</summary>
    public long IntendedSendTimestamp { get; set; }

    /// <summary>How long the last poll took (request to parsed response).</summary>
    public TimeSpan LastRoundTrip { get; set; }

    public PredictionStatus Status => Latest?.Status ?? PredictionStatus.Created;

    /// <summary>Whether an answer may carry an inline image (base64 output, or unknown for a resumed prediction): raises the body limit.</summary>
    public bool ExpectsInline { get; init; } = true;

    /// <summary>A prediction re-attached by id: the first poll goes out at once.</summary>
    public bool Resumed { get; init; }

    /// <summary>A prediction known only by the id its submit's answer named before it broke off (see Prediction.ReadInPart).</summary>
    public bool AcceptedInPart { get; init; }

    /// <summary>
    /// Whether the job's start is unknown (resumed, or accepted by an answer that broke off, perhaps long after the job
    /// began): its first poll goes out at once and it does not teach the completion-time estimate.
    /// </summary>
    public bool StartUnknown => Resumed || AcceptedInPart;

    /// <summary>What the change detector judges this job's poll answers against: the estimate when its first poll went out.</summary>
    public LatencyStatistics.JudgeBasis? Basis { get; set; }

    /// <summary>
    /// Whether this job has taught the completion-time estimate (its completion, or a wait that ended first): a job counts
    /// once, however many waits it sees. A wait cancelled and then taken up again on the same operation taught it twice.
    /// </summary>
    public bool Taught { get; set; }

    /// <summary>One poll of this prediction at a time: a check beside a wait (UpdateStatusAsync) would interleave its updates with the wait's.</summary>
    public SemaphoreSlim PollGate { get; } = new(1, 1);

    /// <summary>The status last reported to a progress callback, if any.</summary>
    public PredictionStatus? LastReported { get; set; }

    /// <summary>Answers that reported the prediction completed without outputs (<see cref="CompletedWithoutOutputs"/>).</summary>
    public int EmptyCompletions { get; set; }

    /// <summary>
    /// Whether the latest answer reported the prediction completed without outputs and it is to be asked about again
    /// (<see cref="PollingOptions.EmptyCompletionRechecks"/>): until then, the prediction does not count as ended (nor
    /// does its empty completion as a failure).
    /// </summary>
    public bool AwaitingOutputs { get; set; }

    /// <summary>Whether the latest answer ended the prediction, with no recheck of an empty completion still due.</summary>
    public bool Ended => Status.IsTerminal && !AwaitingOutputs;

    /// <summary>
    /// Whether <paramref name="prediction"/> reports the job completed without listing an output (none read, none in a
    /// shape the SDK does not read): a relay that marks a job done before it has stored the outputs answers so.
    /// </summary>
    public static bool CompletedWithoutOutputs(Prediction prediction) =>
        prediction.Status.IsCompleted && prediction.Outputs.Count == 0 && prediction.UnreadOutputs == 0;
}
