namespace NanoBanana.Emulator;

/// <summary>
/// A reply the emulator sends verbatim on the next matching exchange instead of the emulated one: a provider's body
/// exactly as documented or as its SDK tests it. In <see cref="Body"/>, <c>%ID%</c> becomes the prediction id (escaped for a JSON string when
/// <see cref="ContentType"/> is JSON, so that an id with quotes or control characters keeps the body valid; <c>%ESCAPED_ID%</c> the id escaped for a URL path),
/// <c>%OUTPUT%</c> the URL of the job's first output and <c>%BASE%</c> the server root.
/// </summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="Body">The body.</param>
/// <param name="ContentType">The content type.</param>
public sealed record EmulatorReply(int StatusCode, string Body, string ContentType = "application/json")
{
    /// <summary>On a submit: whether the job is created (accepted and billable) before the reply is sent.</summary>
    public bool AcceptsJob { get; init; } = true;
}
