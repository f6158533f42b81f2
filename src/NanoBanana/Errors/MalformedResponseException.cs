namespace NanoBanana;

/// <summary>The service answered 2xx with a body the SDK could not read. Polls retry these; a submit never does.</summary>
public sealed class MalformedResponseException : NanoBananaApiException
{
    /// <summary>Creates the exception.</summary>
    public MalformedResponseException() { }

    /// <summary>Creates the exception with a message.</summary>
    public MalformedResponseException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public MalformedResponseException(string message, Exception? innerException) : base(message, innerException) { }
}
