namespace NanoBanana;

/// <summary>
/// Polls for a prediction kept answering 404 (Not Found) through the SDK's retries: the service does not know the id.
/// On a prediction resumed by id, the id may be mistyped or belong to another account, provider or base URL, or the
/// prediction has expired (WaveSpeedAI keeps predictions 7 days; GPT Proto does not say). On a job this client submitted
/// moments before, a relay that is slow to learn new ids answers so too: the job may still run and is billed if it
/// completes, so <see cref="NanoBananaException.PredictionId"/> keeps the id for resuming later. Nothing is ever submitted
/// again because of it.
/// </summary>
public class PredictionNotFoundException : NanoBananaApiException
{
    /// <summary>Creates the exception.</summary>
    public PredictionNotFoundException() { }

    /// <summary>Creates the exception with a message.</summary>
    public PredictionNotFoundException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public PredictionNotFoundException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Restates the 404 answer <paramref name="cause"/>, keeping its status, codes, provider message and prediction id.</summary>
    public PredictionNotFoundException(string message, NanoBananaApiException cause) : base(message, cause) { }

    /// <summary>
    /// Whether the wait was on a prediction resumed by id (<see langword="true"/>: the id most likely is wrong or expired)
    /// rather than on a job this client had just submitted (<see langword="false"/>: it may still run and be billed).
    /// </summary>
    public bool WasResumed { get; init; }
}
