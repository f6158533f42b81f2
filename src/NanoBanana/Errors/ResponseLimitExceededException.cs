namespace NanoBanana;

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

    /// <summary>
    /// The option that set the limit, under the section the client was bound to: <c>NanoBanana:Limits:MaxJsonBytes</c> by
    /// default, <c>Images:Print:Limits:MaxJsonBytes</c> for a client bound to <c>Images:Print</c>.
    /// </summary>
    public string? LimitName { get; init; }

    /// <summary>The limit in bytes.</summary>
    public long Limit { get; init; }
}
