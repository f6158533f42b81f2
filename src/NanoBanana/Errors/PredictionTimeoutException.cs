namespace NanoBanana;

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
}
