using System.Net;

namespace NanoBanana;

/// <summary>The service answered with an error: an HTTP error status or a failed prediction.</summary>
public class NanoBananaApiException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public NanoBananaApiException() { }

    /// <summary>Creates the exception with a message.</summary>
    public NanoBananaApiException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public NanoBananaApiException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>
    /// Creates an exception that restates <paramref name="cause"/> in other words, keeping its status, codes, provider
    /// message, body excerpt, Retry-After and prediction id (the cause becomes the inner exception).
    /// </summary>
    protected NanoBananaApiException(string message, NanoBananaApiException cause)
        : base(message, cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        StatusCode = cause.StatusCode;
        ErrorCode = cause.ErrorCode;
        ProviderMessage = cause.ProviderMessage;
        RawBodyExcerpt = cause.RawBodyExcerpt;
        RetryAfter = cause.RetryAfter;
        PredictionId = cause.PredictionId;
        ModelId = cause.ModelId;
    }

    /// <summary>The same error in other words (see the protected constructor), for the SDK's own restatements.</summary>
    internal static NanoBananaApiException Restated(string message, NanoBananaApiException cause) => new(message, cause);

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
