using NanoBanana.Catalog;
using NanoBanana.Protocol;

namespace NanoBanana.Polling;

/// <summary>The mutable state of one prediction being waited on.</summary>
internal sealed class PollState
{
    public required string Id { get; init; }

    public required ImageModel Model { get; init; }

    public Uri? PollUrl { get; set; }

    /// <summary>TimeProvider timestamp of the submit (or the estimated one for a resumed prediction).</summary>
    public long StartTimestamp { get; init; }

    public int PollCount { get; set; }

    public int Attempt { get; init; } = 1;

    public double LastPendingElapsed { get; set; }

    public Prediction? Latest { get; set; }

    /// <summary>How long the last poll took (request to parsed response).</summary>
    public TimeSpan LastRoundTrip { get; set; }

    public PredictionStatus Status => Latest?.Status ?? PredictionStatus.Created;

    /// <summary>Whether an answer may carry an inline image (base64 output, or unknown for a resumed prediction): raises the body limit.</summary>
    public bool ExpectsInline { get; init; } = true;

    /// <summary>A prediction re-attached by id: the first poll goes out at once.</summary>
    public bool Resumed { get; init; }

    /// <summary>The status last reported to a progress callback, if any.</summary>
    public PredictionStatus? LastReported { get; set; }
}
