using NanoBanana.Catalog;
using NanoBanana.Protocol;

namespace NanoBanana.Polling;

/// <summary>What a schedule knows when it picks the next poll.</summary>
/// <param name="Model">The model running the prediction.</param>
/// <param name="Elapsed">Time since the job started at the service: the submit's answer less half a typical round trip (in sync mode, the submit's send; estimated for a resumed prediction).</param>
/// <param name="PollCount">Polls sent so far for this prediction.</param>
/// <param name="LastStatus">The last status seen.</param>
public readonly record struct PollScheduleContext(ImageModel Model, TimeSpan Elapsed, int PollCount, PredictionStatus LastStatus)
{
    /// <summary>
    /// When the last poll reached the service, as time since the job started (see Elapsed): its send plus half its round trip.
    /// Zero before the first poll, and for a resumed prediction until it has been polled.
    /// </summary>
    public TimeSpan LastPollReached { get; init; }
}
