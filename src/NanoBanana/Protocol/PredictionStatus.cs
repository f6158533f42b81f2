namespace NanoBanana.Protocol;

/// <summary>
/// A prediction status as the service spells it. Unknown values are kept as-is and treated as "still running" (so are
/// GPT Proto's unified <c>pending</c> and <c>in_progress</c>).
/// </summary>
/// <param name="Value">The wire value, e.g. "processing".</param>
public readonly record struct PredictionStatus(string Value)
{
    /// <summary>Accepted, not started.</summary>
    public static PredictionStatus Created { get; } = new("created");

    /// <summary>Running.</summary>
    public static PredictionStatus Processing { get; } = new("processing");

    /// <summary>Finished with outputs.</summary>
    public static PredictionStatus Completed { get; } = new("completed");

    /// <summary>Finished with an error (refunded).</summary>
    public static PredictionStatus Failed { get; } = new("failed");

    /// <summary>Cancelled (terminal in WaveSpeed's SDK).</summary>
    public static PredictionStatus Cancelled { get; } = new("cancelled");

    /// <summary>Timed out on the service side (terminal in WaveSpeed's SDK).</summary>
    public static PredictionStatus TimedOut { get; } = new("timeout");

    /// <summary>Expired before it ran (terminal in GPT Proto's unified API).</summary>
    public static PredictionStatus Expired { get; } = new("expired");

    /// <summary>Whether no further change will happen.</summary>
    public bool IsTerminal => Is("completed") || Is("failed") || Is("cancelled") || Is("timeout") || Is("expired");

    /// <summary>Whether the prediction completed with outputs.</summary>
    public bool IsCompleted => Is("completed");

    private bool Is(string value) => string.Equals(Value, value, StringComparison.OrdinalIgnoreCase);

    /// <summary>The wire value.</summary>
    public override string ToString() => Value ?? "unknown";
}
