namespace NanoBanana;

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

    /// <summary>Restates the refusal <paramref name="cause"/>, keeping its status, codes and provider message.</summary>
    public ContentPolicyException(string message, NanoBananaApiException cause) : base(message, cause) { }
}
