namespace NanoBanana;

/// <summary>
/// The caller cancelled after the service accepted the prediction. The job runs on and is billed: resume with
/// <see cref="PredictionId"/> (<c>client.ResumeAsync(id, model)</c>). Derives from <see cref="OperationCanceledException"/>,
/// so <c>catch (OperationCanceledException)</c> still works.
/// </summary>
public class PredictionCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public PredictionCanceledException() { }

    /// <summary>Creates the exception with a message.</summary>
    public PredictionCanceledException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public PredictionCanceledException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a message, the cause and the token that was cancelled.</summary>
    public PredictionCanceledException(string message, Exception? innerException, CancellationToken token) : base(message, innerException, token) { }

    /// <summary>The accepted prediction: pass it to <c>ResumeAsync</c> or <c>GetOperation</c>.</summary>
    public string? PredictionId { get; init; }

    /// <summary>The model id the prediction runs on (pass it when resuming, for the schedule).</summary>
    public string? ModelId { get; init; }

    /// <summary>The last status seen before the cancellation.</summary>
    public string? LastStatus { get; init; }
}
