namespace NanoBanana;

/// <summary>
/// The SDK's own values of <see cref="NanoBananaApiException.ErrorCode"/> (the provider's codes pass through as sent).
/// Compare against these instead of string literals.
/// </summary>
public static class NanoBananaErrorCodes
{
    /// <summary>A submit could not connect: nothing was sent, nothing billed.</summary>
    public const string ConnectionFailed = "connection_failed";

    /// <summary>A poll failed at the transport level after its retries (connection, timeout, broken body).</summary>
    public const string Transport = "transport";

    /// <summary>A 2xx body could not be read as a prediction.</summary>
    public const string MalformedResponse = "malformed_response";

    /// <summary>The service answered an API call with a redirect, which API calls never follow.</summary>
    public const string Redirect = "redirect";

    /// <summary>Uploading a local reference image failed (nothing was submitted, nothing billed).</summary>
    public const string UploadFailed = "upload_failed";
}
