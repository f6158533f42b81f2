using System.Diagnostics;

namespace NanoBanana.Diagnostics;

/// <summary>
/// A span of the SDK's that a listener cannot turn into a failed job. <see cref="ActivitySource"/> calls its listeners
/// (<c>Sample</c>, <c>ActivityStarted</c>, <c>ActivityStopped</c>) on the SDK's own thread, and an exception from one of
/// them left the SDK as it was: from the <c>nanobanana.submit</c> span, stopped after the submit was accepted, that ended
/// the call without the prediction id of a paid job. A span is worth less than a paid job, so a throwing listener costs
/// the span, and <see cref="Activity.Current"/> is put back to what it was before (the runtime sets it before it calls
/// the listeners of a start, and restores it only after those of a stop).
/// </summary>
internal readonly struct GuardedSpan : IDisposable
{
    private readonly System.Diagnostics.Activity? _previous;

    private GuardedSpan(System.Diagnostics.Activity? activity, System.Diagnostics.Activity? previous)
    {
        Activity = activity;
        _previous = previous;
    }

    /// <summary>The span, or null when nobody listens or a listener failed while it started.</summary>
    public System.Diagnostics.Activity? Activity { get; }

    /// <summary>Starts a span of the SDK's activity source.</summary>
    public static GuardedSpan Start(string name, ActivityKind kind = ActivityKind.Internal)
    {
        var previous = System.Diagnostics.Activity.Current;
        try
        {
            return new GuardedSpan(NanoBananaTelemetry.ActivitySource.StartActivity(name, kind), previous);
        }
        catch (Exception)
        {
            System.Diagnostics.Activity.Current = previous;
            return default;
        }
    }

    /// <summary>Stops the span.</summary>
    public void Dispose()
    {
        try
        {
            Activity?.Dispose();
        }
        catch (Exception)
        {
            System.Diagnostics.Activity.Current = _previous;
        }
    }
}
