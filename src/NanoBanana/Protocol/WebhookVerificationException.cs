namespace NanoBanana.Protocol;

/// <summary>A webhook delivery failed verification; nothing in it should be trusted.</summary>
public sealed class WebhookVerificationException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public WebhookVerificationException() { }

    /// <summary>Creates the exception with a message.</summary>
    public WebhookVerificationException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public WebhookVerificationException(string message, Exception? innerException) : base(message, innerException) { }
}
