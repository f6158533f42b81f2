namespace NanoBanana;

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

    /// <summary>Restates the last refusal <paramref name="last"/>, keeping its status, codes, provider message and Retry-After.</summary>
    public NoModelAcceptedException(string message, NanoBananaApiException last) : base(message, last) { }

    /// <summary>Every model tried, in order, with why it refused.</summary>
    public IReadOnlyList<GenerationAttempt> Attempts { get; init; } = [];
}
