namespace NanoBanana.Emulator;

/// <summary>One request the emulator received.</summary>
public sealed record EmulatorRequest
{
    /// <summary>When it arrived (UTC).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>HTTP method.</summary>
    public required string Method { get; init; }

    /// <summary>Request path and query string.</summary>
    public required string Path { get; init; }

    /// <summary>The id of the connection it came on: requests that share one came over one kept-alive connection.</summary>
    public string? ConnectionId { get; init; }

    /// <summary>"submit", "poll", "output" or "other".</summary>
    public required string Kind { get; init; }

    /// <summary>Whether an Authorization header was present.</summary>
    public bool HasAuthorization { get; init; }

    /// <summary>"Bearer", "Raw" or null.</summary>
    public string? AuthorizationScheme { get; init; }

    /// <summary>Whether the key matched the expected one.</summary>
    public bool AuthorizationValid { get; init; }

    /// <summary>The request body (submits), truncated.</summary>
    public string? Body { get; init; }

    /// <summary>The model route segment of a submit.</summary>
    public string? Model { get; init; }

    /// <summary>The prediction id concerned.</summary>
    public string? PredictionId { get; init; }

    /// <summary>Whether a submit created a (billable) job.</summary>
    public bool Accepted { get; init; }

    /// <summary>The status code sent (0 when the connection was dropped).</summary>
    public int StatusCode { get; init; }

    /// <summary>The injected fault, if any.</summary>
    public FaultKind? Fault { get; init; }
}
