using System.Net;

namespace NanoBanana;

/// <summary>The base type of every exception the SDK throws on purpose.</summary>
public class NanoBananaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NanoBananaException() { }

    /// <summary>Creates the exception with a message.</summary>
    public NanoBananaException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public NanoBananaException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The prediction this error concerns, when one is known; pass it to resume waiting.</summary>
    public string? PredictionId { get; init; }
}

/// <summary>The service answered with an error: an HTTP error status or a failed prediction.</summary>
public class NanoBananaApiException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public NanoBananaApiException() { }

    /// <summary>Creates the exception with a message.</summary>
    public NanoBananaApiException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public NanoBananaApiException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The HTTP status of the response, or <see langword="null"/> for a failed prediction delivered with 200.</summary>
    public HttpStatusCode? StatusCode { get; init; }

    /// <summary>The provider's error code: a string code ("rate_limit_exceeded"), an error type ("401") or a task code ("1200").</summary>
    public string? ErrorCode { get; init; }

    /// <summary>The provider's error message.</summary>
    public string? ProviderMessage { get; init; }

    /// <summary>A bounded excerpt of the raw response body, with any credential removed.</summary>
    public string? RawBodyExcerpt { get; init; }

    /// <summary>The value of the Retry-After header, when the response had one.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>
/// A submit may have reached the service but its outcome is unknown (a timeout, a dropped connection, a 5xx after
/// sending). The SDK does not resubmit, because every accepted submit is billed.
/// </summary>
public class SubmitOutcomeUnknownException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public SubmitOutcomeUnknownException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SubmitOutcomeUnknownException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public SubmitOutcomeUnknownException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// Waiting for a prediction ran past its deadline. The job may still finish: resume with <see cref="NanoBananaException.PredictionId"/>.
/// </summary>
public class PredictionTimeoutException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public PredictionTimeoutException() { }

    /// <summary>Creates the exception with a message.</summary>
    public PredictionTimeoutException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public PredictionTimeoutException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The last status seen before the deadline.</summary>
    public string? LastStatus { get; init; }

    /// <summary>The model id the prediction runs on.</summary>
    public string? ModelId { get; init; }
}
