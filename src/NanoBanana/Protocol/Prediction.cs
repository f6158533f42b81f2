namespace NanoBanana.Protocol;

/// <summary>A prediction as the service reported it in one response.</summary>
public sealed class Prediction
{
    /// <summary>The prediction id.</summary>
    public required string Id { get; init; }

    /// <summary>The model the service reports, e.g. "google/gemini-3-pro-image-preview".</summary>
    public string? Model { get; init; }

    /// <summary>The status.</summary>
    public PredictionStatus Status { get; init; }

    /// <summary>Output URLs, or bare base64 strings when base64 output was requested.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];

    /// <summary>The poll URL the service gave (<c>data.urls.get</c>), if any.</summary>
    public Uri? PollUrl { get; init; }

    /// <summary>The error message, if any (null when empty).</summary>
    public string? Error { get; init; }

    /// <summary>A task error code (1200 moderation, 1400/1401 bad input, 1402 media fetch, 1403/1405 task failed, 5000/5003/5004), if any.</summary>
    public int? ErrorCode { get; init; }

    /// <summary>The service's execution time, when reported.</summary>
    public TimeSpan? ExecutionTime { get; init; }

    /// <summary>The inference time from <c>timings.inference</c>, when reported.</summary>
    public TimeSpan? InferenceTime { get; init; }

    /// <summary>One flag per output; empty when not reported.</summary>
    public IReadOnlyList<bool> HasNsfwContents { get; init; } = [];

    /// <summary>When the service created the prediction, when reported.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>How many outputs came in a shape the SDK does not read (and were left out of <see cref="Outputs"/>).</summary>
    internal int UnreadOutputs { get; init; }

    /// <summary>What the first unread output was ("an object with the properties \"img\", \"w\""), when any was.</summary>
    internal string? UnreadOutputShape { get; init; }

    /// <summary>
    /// Set when the submit's answer broke off (what went wrong) after naming this prediction: only the id is known, the
    /// first poll tells the rest.
    /// </summary>
    internal string? ReadInPart { get; init; }

    /// <summary>Whether this is a sync-mode timeout (code 5004 or "Sync mode timed out" while still running): keep polling this id.</summary>
    public bool IsSyncTimeout => !Status.IsTerminal && (ErrorCode == 5004 || (Error?.Contains("timed out", StringComparison.OrdinalIgnoreCase) ?? false));

    /// <summary>Whether the failure is the caller's (moderation or bad input) rather than the service's.</summary>
    public bool IsCallerError => ErrorCode is 1200 or 1400 or 1401 or 1402
        || (Error is { } e && (e.Contains("moderation", StringComparison.OrdinalIgnoreCase) || e.Contains("nsfw", StringComparison.OrdinalIgnoreCase) || e.Contains("safety", StringComparison.OrdinalIgnoreCase) || e.Contains("policy", StringComparison.OrdinalIgnoreCase)));

    /// <inheritdoc />
    public override string ToString() => $"Prediction {Diagnostics.SafeText.Value(Id)} ({Status}{(Error is null ? "" : $": {Error}")})";
}
