using NanoBanana.Catalog;
using NanoBanana.Routing;

namespace NanoBanana;

/// <summary>The result of a job: the images, the routing decision, the model used, the prediction id, timings and attempts.</summary>
public sealed class ImageResult
{
    /// <summary>Creates a result (also useful to fake results in tests of your own code).</summary>
    public ImageResult(IReadOnlyList<GeneratedImage> images, ImageModel model, string predictionId, RoutingDecision? decision, IReadOnlyList<GenerationAttempt> attempts, TimeSpan duration, TimeSpan? serverExecutionTime, int pollCount, decimal estimatedCostUsd)
    {
        Images = images;
        Model = model;
        PredictionId = predictionId;
        Decision = decision;
        Attempts = attempts;
        Duration = duration;
        ServerExecutionTime = serverExecutionTime;
        PollCount = pollCount;
        EstimatedCostUsd = estimatedCostUsd;
    }

    /// <summary>The generated images.</summary>
    public IReadOnlyList<GeneratedImage> Images { get; }

    /// <summary>The model that produced the images (differs from <see cref="Decision"/>'s model after a fallback).</summary>
    public ImageModel Model { get; }

    /// <summary>The prediction id that produced the images.</summary>
    public string PredictionId { get; }

    /// <summary>The routing decision (null for a resumed prediction).</summary>
    public RoutingDecision? Decision { get; }

    /// <summary>Every attempt made, in order (more than one after a fallback).</summary>
    public IReadOnlyList<GenerationAttempt> Attempts { get; }

    /// <summary>Time from the first submit to the result.</summary>
    public TimeSpan Duration { get; }

    /// <summary>The service's reported execution time, when given.</summary>
    public TimeSpan? ServerExecutionTime { get; }

    /// <summary>Polls sent for the successful prediction.</summary>
    public int PollCount { get; }

    /// <summary>The catalog price of the model used at the requested size (USD per image).</summary>
    public decimal EstimatedCostUsd { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Images.Count} {(Images.Count == 1 ? "image" : "images")} from {Model.DisplayName}, prediction {Diagnostics.SafeText.Value(PredictionId)}, {Duration.TotalSeconds:0.0} s, ~${EstimatedCostUsd}";
}
