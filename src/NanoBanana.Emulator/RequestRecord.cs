namespace NanoBanana.Emulator;

/// <summary>
/// The emulator's own record of one request: what arrived, and what it came to (filled in as the answer is made).
/// Callers see <see cref="EmulatorRequest"/> snapshots of it.
/// </summary>
internal sealed class RequestRecord(EmulatorRequest arrival)
{
    public EmulatorRequest Arrival { get; } = arrival;

    public bool HasAuthorization => Arrival.HasAuthorization;

    public bool AuthorizationValid => Arrival.AuthorizationValid;

    public string? PredictionId { get; set; }

    public bool Accepted { get; set; }

    public int StatusCode { get; set; }

    public FaultKind? Fault { get; set; }

    /// <summary>The request as it stands now.</summary>
    public EmulatorRequest Snapshot() => Arrival with { PredictionId = PredictionId, Accepted = Accepted, StatusCode = StatusCode, Fault = Fault };
}
