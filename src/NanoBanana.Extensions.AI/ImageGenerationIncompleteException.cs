using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace NanoBanana.Extensions.AI;

/// <summary>
/// A request for several images (<c>ImageGenerationOptions.Count</c> above 1) in which not every prediction
/// completed. Nothing paid for is dropped: <see cref="Completed"/> holds the predictions that completed, with their
/// images, and <see cref="Failures"/> one exception per prediction that did not, each carrying its prediction id
/// when the service accepted it (resume those with <c>client.ResumeAsync</c>). When the caller cancelled, this
/// exception is the <see cref="Exception.InnerException"/> of a <see cref="PredictionCanceledException"/>, so
/// <c>catch (OperationCanceledException)</c> still works.
/// </summary>
[Experimental("MEAI001")]
public sealed class ImageGenerationIncompleteException : NanoBananaException
{
    /// <summary>Creates the exception.</summary>
    public ImageGenerationIncompleteException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ImageGenerationIncompleteException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public ImageGenerationIncompleteException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception from what each prediction of the request came to.</summary>
    /// <param name="completed">The predictions that completed.</param>
    /// <param name="failures">One exception per prediction that did not.</param>
    public ImageGenerationIncompleteException(IReadOnlyList<ImageResult> completed, IReadOnlyList<Exception> failures)
        : base(Describe(completed, failures), failures.Count > 0 ? failures[0] : null)
    {
        Completed = completed;
        Failures = failures;
        PredictionId = failures.Select(IdOf).FirstOrDefault(id => id is not null);
    }

    /// <summary>The predictions that completed; their images are in <see cref="ImageResult.Images"/>.</summary>
    public IReadOnlyList<ImageResult> Completed { get; } = [];

    /// <summary>One exception per prediction that did not complete, in the order the predictions were started.</summary>
    public IReadOnlyList<Exception> Failures { get; } = [];

    /// <summary>
    /// The ids of the accepted predictions that did not complete here and may still: cancelled, timed out, or cut off
    /// by a failure on this side. Pass each to <c>client.ResumeAsync</c>. Predictions that ended <c>failed</c> are
    /// not listed (they are refunded).
    /// </summary>
    public IReadOnlyList<string> ResumableIds =>
        [.. Failures.Where(f => f is not PredictionFailedException).Select(IdOf).OfType<string>()];

    /// <summary>The prediction id an exception of the SDK carries, if any.</summary>
    internal static string? IdOf(Exception exception) => exception switch
    {
        PredictionCanceledException c => c.PredictionId,
        NanoBananaException n => n.PredictionId,
        _ => null,
    };

    private static string Describe(IReadOnlyList<ImageResult> completed, IReadOnlyList<Exception> failures)
    {
        ArgumentNullException.ThrowIfNull(completed);
        ArgumentNullException.ThrowIfNull(failures);
        var total = completed.Count + failures.Count;
        // The failures' messages come from the SDK, which already made service text safe to print.
        return string.Create(CultureInfo.InvariantCulture,
            $"{completed.Count} of {total} images completed (see Completed); {failures.Count} did not (see Failures, ResumableIds): ")
            + string.Join(" | ", failures.Select(f => f.Message));
    }
}
