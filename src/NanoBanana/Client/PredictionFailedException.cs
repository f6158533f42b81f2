namespace NanoBanana;

/// <summary>A prediction ended <c>failed</c> (or another non-success terminal status). Failed runs are refunded.</summary>
public sealed class PredictionFailedException : NanoBananaApiException
{
    /// <summary>Creates the exception.</summary>
    public PredictionFailedException() { }

    /// <summary>Creates the exception with a message.</summary>
    public PredictionFailedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public PredictionFailedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The task error code (1200 moderation, 1400/1401 invalid input, 1402 media fetch, 1403/1405, 5000, 5003, 5004).</summary>
    public int? TaskErrorCode { get; init; }

    /// <summary>Whether the cause is the request itself (moderation or bad input): another model will not help.</summary>
    public bool IsCallerError { get; init; }

    /// <summary>The terminal status.</summary>
    public string? Status { get; init; }

    /// <summary>
    /// The prediction completed with outputs the SDK could not read: an image exists and the run is likely billed, so
    /// it is never sent to another model, whatever <c>FallbackOnEmptyOutput</c> says.
    /// </summary>
    internal bool OutputsUnread { get; init; }
}
