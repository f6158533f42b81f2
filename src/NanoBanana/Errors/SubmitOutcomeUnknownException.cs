using System.Net;

namespace NanoBanana;

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

    /// <summary>The HTTP status of the answer (500, 502, 504), or <see langword="null"/> when none arrived.</summary>
    public HttpStatusCode? StatusCode { get; init; }

    /// <summary>What the service said in its answer (JSON field or plain text, with any credential removed), if anything.</summary>
    public string? ProviderMessage { get; init; }
}
