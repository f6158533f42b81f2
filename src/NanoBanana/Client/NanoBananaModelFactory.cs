using NanoBanana.Catalog;
using NanoBanana.Polling;
using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana;

/// <summary>
/// Builds the SDK's result types for tests of your own code, the way the Azure SDKs' model factories do: a result
/// with real image bytes, a routing decision, a prediction, an operation that is already finished. Nothing here
/// talks to a service.
/// </summary>
public static class NanoBananaModelFactory
{
    /// <summary>An image whose bytes are already in memory (as with base64 output).</summary>
    /// <param name="bytes">The encoded image.</param>
    /// <param name="mediaType">Its media type.</param>
    /// <param name="predictionId">The prediction it came from.</param>
    /// <param name="index">Its index among the prediction's outputs.</param>
    public static GeneratedImage GeneratedImage(ReadOnlyMemory<byte> bytes, string mediaType = "image/png", string predictionId = "prediction-0001", int index = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(mediaType);
        var image = new GeneratedImage(null, $"data:{mediaType};base64,{Convert.ToBase64String(bytes.Span)}", false, null, predictionId, index);
        return image;
    }

    /// <summary>
    /// An image known only by its URL. Its <see cref="NanoBanana.GeneratedImage.Uri"/> is set; fetching it throws
    /// <see cref="InvalidOperationException"/>, since no client stands behind it.
    /// </summary>
    /// <param name="url">The output URL.</param>
    /// <param name="predictionId">The prediction it came from.</param>
    /// <param name="index">Its index among the prediction's outputs.</param>
    public static GeneratedImage GeneratedImage(Uri url, string predictionId = "prediction-0001", int index = 0)
    {
        ArgumentNullException.ThrowIfNull(url);
        return new GeneratedImage(null, url.AbsoluteUri, false, null, predictionId, index);
    }

    /// <summary>
    /// A routing decision as the built-in tier policy makes it for these requirements (default: a 1K square job) over
    /// a catalog (default: the built-in one), with its reasons, fallbacks and rejections.
    /// </summary>
    /// <exception cref="NoCapableModelException">No model of the catalog can run the job.</exception>
    public static RoutingDecision RoutingDecision(JobRequirements? requirements = null, ModelCatalog? catalog = null) =>
        new TierPolicy(catalog ?? ModelCatalog.Default).Route(requirements ?? new JobRequirements());

    /// <summary>A result with one or more images, as <see cref="INanoBananaClient.GenerateAsync(ImageJob, CancellationToken)"/> returns it.</summary>
    /// <param name="images">The images; default one small PNG.</param>
    /// <param name="model">The model that produced them; default the decision's model, else Nano Banana 2.</param>
    /// <param name="predictionId">The prediction id.</param>
    /// <param name="decision">The routing decision; default the built-in policy's for a 1K square job.</param>
    /// <param name="attempts">The attempts; default one completed attempt on <paramref name="model"/>.</param>
    /// <param name="duration">Time from submit to result.</param>
    /// <param name="pollCount">Polls sent.</param>
    /// <param name="estimatedCostUsd">The estimated cost; default the model's 1K price.</param>
    public static ImageResult ImageResult(
        IReadOnlyList<GeneratedImage>? images = null,
        ImageModel? model = null,
        string predictionId = "prediction-0001",
        RoutingDecision? decision = null,
        IReadOnlyList<GenerationAttempt>? attempts = null,
        TimeSpan? duration = null,
        int pollCount = 2,
        decimal? estimatedCostUsd = null)
    {
        decision ??= RoutingDecision();
        model ??= decision.Model;
        var took = duration ?? TimeSpan.FromSeconds(5);
        images ??= [GeneratedImage(TinyPng, "image/png", predictionId)];
        attempts ??= [new GenerationAttempt(model, predictionId, AttemptOutcome.Completed, null, took)];
        return new ImageResult(images, model, predictionId, decision, attempts, took, null, pollCount,
            estimatedCostUsd ?? model.PriceOrZero(ImageSize.OneK));
    }

    /// <summary>A prediction as the service reports it.</summary>
    /// <param name="id">The prediction id.</param>
    /// <param name="status">Its status; default <see cref="PredictionStatus.Completed"/>.</param>
    /// <param name="outputs">Output URLs or base64 data.</param>
    /// <param name="error">The error text of a failed prediction.</param>
    /// <param name="model">The model id the service names.</param>
    public static Prediction Prediction(string id = "prediction-0001", PredictionStatus? status = null, IReadOnlyList<string>? outputs = null, string? error = null, string? model = null) => new()
    {
        Id = id,
        Status = status ?? PredictionStatus.Completed,
        Outputs = outputs ?? [],
        Error = error,
        Model = model,
    };

    /// <summary>
    /// An operation that has already finished with <paramref name="result"/>: its status is completed, its value is
    /// the result, and waiting returns it at once without any request.
    /// </summary>
    /// <param name="result">The result it finished with.</param>
    public static ImageGenerationOperation CompletedOperation(ImageResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new FinishedOperation(result);
    }

    // A 1x1 PNG.
    private static ReadOnlyMemory<byte> TinyPng { get; } = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    private sealed class FinishedOperation(ImageResult result) : ImageGenerationOperation
    {
        public override string Id => result.PredictionId;

        public override ImageModel Model => result.Model;

        public override RoutingDecision? Decision => result.Decision;

        public override PredictionStatus Status => PredictionStatus.Completed;

        public override bool HasCompleted => true;

        public override bool HasValue => true;

        public override int PollCount => result.PollCount;

        public override ImageResult Value => result;

        public override Task<PredictionStatus> UpdateStatusAsync(CancellationToken cancellationToken = default) => Task.FromResult(PredictionStatus.Completed);

        public override Task<ImageResult> WaitForCompletionAsync(CancellationToken cancellationToken = default) => Task.FromResult(result);

        public override Task<ImageResult> WaitForCompletionAsync(TimeSpan pollingInterval, CancellationToken cancellationToken = default) => Task.FromResult(result);

        public override Task<ImageResult> WaitForCompletionAsync(IPollSchedule schedule, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken = default) => Task.FromResult(result);
    }
}
