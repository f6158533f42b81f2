namespace NanoBanana;

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
