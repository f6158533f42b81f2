using Microsoft.Extensions.Logging;
using NanoBanana.Diagnostics;
using Polly.Retry;
using Polly.Telemetry;

namespace NanoBanana.Protocol;

/// <summary>
/// Polly's own telemetry (retries, timeouts) reported through the SDK's logger and meter, without Polly.Extensions:
/// each retry or timeout counts in <c>nanobanana.transport.events</c> (tags <c>event.name</c>, <c>event.severity</c>)
/// and is logged with the request's method and path, the attempt and the delay, never a header or a body.
/// </summary>
internal sealed class ResilienceTelemetry(ILogger logger) : TelemetryListener
{
    public override void Write<TResult, TArgs>(in TelemetryEventArguments<TResult, TArgs> args)
    {
        // Only what went wrong: Polly also reports every pipeline run and attempt (Debug/Information), which would
        // flood the log with one line per poll.
        var ev = args.Event;
        if (ev.EventName is not ("OnRetry" or "OnTimeout"))
        {
            return;
        }

        NanoBananaTelemetry.TransportEvents.Add(1,
            new KeyValuePair<string, object?>("event.name", ev.EventName),
            new KeyValuePair<string, object?>("event.severity", ev.Severity.ToString()));
        var request = NanoBananaResilienceHandler.RequestOf(args.Context);
        var what = request is null ? "request" : $"{request.Method} {request.RequestUri?.AbsolutePath}";
        var outcome = args.Outcome is { } o
            ? o.Exception is { } ex ? ex.GetType().Name : o.Result is HttpResponseMessage r ? $"HTTP {(int)r.StatusCode}" : "result"
            : "none";
        if (args.Arguments is OnRetryArguments<HttpResponseMessage> retry)
        {
            Log.TransportRetry(logger, what, retry.AttemptNumber + 1, retry.RetryDelay.TotalMilliseconds, outcome);
        }
        else
        {
            Log.TransportEvent(logger, ev.EventName, what, outcome);
        }
    }
}
