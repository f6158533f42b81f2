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
