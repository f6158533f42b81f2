using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace NanoBanana.Diagnostics;

/// <summary>
/// The SDK's <see cref="ActivitySource"/> and <see cref="Meter"/>, both named "NanoBanana". Subscribe with
/// OpenTelemetry (<c>AddSource("NanoBanana")</c>, <c>AddMeter("NanoBanana")</c>) or a listener.
/// </summary>
public static class NanoBananaTelemetry
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "NanoBanana";

    /// <summary>Spans: <c>nanobanana.route</c>, <c>nanobanana.submit</c>, <c>nanobanana.poll</c>, <c>nanobanana.download</c>, <c>nanobanana.generate</c>.</summary>
    internal static ActivitySource ActivitySource { get; } = new(Name, typeof(NanoBananaTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>The meter.</summary>
    internal static Meter Meter { get; } = new(Name, typeof(NanoBananaTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly GuardedCounter JobsStarted = new(Meter.CreateCounter<long>("nanobanana.jobs.started", "{job}", "Jobs submitted and accepted."));
    internal static readonly GuardedCounter JobsCompleted = new(Meter.CreateCounter<long>("nanobanana.jobs.completed", "{job}", "Jobs that completed with outputs."));
    internal static readonly GuardedCounter JobsFailed = new(Meter.CreateCounter<long>("nanobanana.jobs.failed", "{job}", "Jobs that ended failed, timed out or could not be submitted."));
    internal static readonly GuardedCounter Polls = new(Meter.CreateCounter<long>("nanobanana.polls", "{request}", "Poll requests sent."));
    internal static readonly GuardedCounter Fallbacks = new(Meter.CreateCounter<long>("nanobanana.fallbacks", "{attempt}", "Attempts moved to a fallback model."));
    internal static readonly GuardedHistogram Latency = new(Meter.CreateHistogram<double>("nanobanana.job.duration", "s", "Submit-to-result time per model."));
    internal static readonly GuardedCounter TransportEvents = new(Meter.CreateCounter<long>("nanobanana.transport.events", "{event}", "Polly resilience events of single HTTP exchanges (retries, timeouts)."));
    internal static readonly GuardedHistogram EstimatedCost = new(Meter.CreateHistogram<double>("nanobanana.job.estimated_cost", "USD", "Estimated cost per accepted job."));

    /// <summary>Marks a span failed: error status, <c>error.type</c>, and an <c>exception</c> event (texts already redacted).</summary>
    internal static void RecordFailure(Activity activity, Exception exception)
    {
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag("error.type", exception.GetType().FullName);
        activity.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
        {
            ["exception.type"] = exception.GetType().FullName,
            ["exception.message"] = exception.Message,
        }));
        var id = (exception as NanoBananaException)?.PredictionId ?? (exception as PredictionCanceledException)?.PredictionId;
        if (id is not null)
        {
            activity.SetTag(TagPrediction, SafeText.Value(id));
        }
    }

    internal const string TagModel = "nanobanana.model";
    internal const string TagTier = "nanobanana.tier";
    internal const string TagPrediction = "nanobanana.prediction_id";
    internal const string TagStatus = "nanobanana.status";
}
