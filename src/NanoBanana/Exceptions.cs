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

    /// <summary>The HTTP status of the answer (500, 502, 504), or <see langword="null"/> when none arrived.</summary>
    public HttpStatusCode? StatusCode { get; init; }

    /// <summary>What the service said in its answer (JSON field or plain text, with any credential removed), if anything.</summary>
    public string? ProviderMessage { get; init; }
}

/// <summary>
/// The provider refused the job under its content policy (GPT Proto documents a 503 "Content policy violation";
/// WaveSpeedAI uses task code 1200 and moderation texts). Nothing was accepted or billed. The SDK does not retry it
/// and does not send it to another model, which would refuse it too: change the prompt or the reference images.
/// </summary>
public class ContentPolicyException : NanoBananaApiException
{
    /// <summary>Creates the exception.</summary>
    public ContentPolicyException() { }

    /// <summary>Creates the exception with a message.</summary>
    public ContentPolicyException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public ContentPolicyException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The model id the job was submitted to.</summary>
    public string? ModelId { get; init; }
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

/// <summary>
/// The caller cancelled after the service accepted the prediction. The job runs on and is billed: resume with
/// <see cref="PredictionId"/> (<c>client.ResumeAsync(id, model)</c>). Derives from <see cref="OperationCanceledException"/>,
/// so <c>catch (OperationCanceledException)</c> still works.
/// </summary>
public class PredictionCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public PredictionCanceledException() { }

    /// <summary>Creates the exception with a message.</summary>
    public PredictionCanceledException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public PredictionCanceledException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a message, the cause and the token that was cancelled.</summary>
    public PredictionCanceledException(string message, Exception? innerException, CancellationToken token) : base(message, innerException, token) { }

    /// <summary>The accepted prediction: pass it to <c>ResumeAsync</c> or <c>GetOperation</c>.</summary>
    public string? PredictionId { get; init; }

    /// <summary>The model id the prediction runs on (pass it when resuming, for the schedule).</summary>
    public string? ModelId { get; init; }

    /// <summary>The last status seen before the cancellation.</summary>
    public string? LastStatus { get; init; }
}

/// <summary>
/// The service sent more than a configured limit allows (<see cref="LimitOptions"/>): a JSON body, an inline image
/// or a download. Nothing beyond the limit was read. When a prediction is known its id is here: it may have completed
/// and been billed, so resume with a larger limit rather than submitting again.
/// </summary>
public class ResponseLimitExceededException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public ResponseLimitExceededException() { }

    /// <summary>Creates the exception with a message.</summary>
    public ResponseLimitExceededException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public ResponseLimitExceededException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The option that set the limit, e.g. <c>NanoBanana:Limits:MaxJsonBytes</c>.</summary>
    public string? LimitName { get; init; }

    /// <summary>The limit in bytes.</summary>
    public long Limit { get; init; }
}

/// <summary>
/// A prediction completed (and is billed) but one of its outputs could not be obtained: it is not decodable, its URL
/// is refused by the output policy (scheme, address, host), it is not an image, or its download failed or timed out.
/// <see cref="NanoBananaException.PredictionId"/> is set: the job is not resubmitted; fetch the output again later
/// by resuming the prediction.
/// </summary>
public class OutputUnavailableException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public OutputUnavailableException() { }

    /// <summary>Creates the exception with a message.</summary>
    public OutputUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public OutputUnavailableException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The index of the output in the prediction.</summary>
    public int OutputIndex { get; init; }
}

/// <summary>
/// Every model of the fallback chain refused the submit (nothing was accepted, nothing billed). <see cref="Attempts"/>
/// lists each model tried and its reason; the status, code and Retry-After are those of the last refusal.
/// </summary>
public class NoModelAcceptedException : NanoBananaApiException
{
    /// <summary>Creates the exception.</summary>
    public NoModelAcceptedException() { }

    /// <summary>Creates the exception with a message.</summary>
    public NoModelAcceptedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public NoModelAcceptedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Every model tried, in order, with why it refused.</summary>
    public IReadOnlyList<GenerationAttempt> Attempts { get; init; } = [];
}
