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

    private string? _modelId;

    /// <summary>The prediction this error concerns, when one is known; pass it to resume waiting.</summary>
    public string? PredictionId { get; init; }

    /// <summary>
    /// The model id the prediction (or the submit) concerns, when known; pass it with <see cref="PredictionId"/> to
    /// resume waiting (<c>client.ResumeAsync(ex.PredictionId, ex.ModelId)</c>).
    /// </summary>
    public string? ModelId { get => _modelId; init => _modelId = value; }

    /// <summary>
    /// Records the model of the prediction this error concerns when the code that threw it did not know it (a poll's
    /// transport error, an unreadable answer). Returns false, so it can sit in an exception filter and leave the
    /// exception and its stack trace untouched.
    /// </summary>
    internal bool KnowModel(string predictionId, string modelId)
    {
        if (_modelId is null && string.Equals(PredictionId, predictionId, StringComparison.Ordinal))
        {
            _modelId = modelId;
        }

        return false;
    }
}
