using NanoBanana.Catalog;

namespace NanoBanana.Batch;

/// <summary>What happened to one job of a batch.</summary>
public sealed record BatchItemResult
{
    /// <summary>The job's key.</summary>
    public required string Key { get; init; }

    /// <summary>How it ended.</summary>
    public required BatchOutcome Outcome { get; init; }

    /// <summary>The prediction id, once the service accepted the job.</summary>
    public string? PredictionId { get; init; }

    /// <summary>The model id it ran on (or was routed to).</summary>
    public string? ModelId { get; init; }

    /// <summary>The job's size.</summary>
    public ImageSize Size { get; init; }

    /// <summary>The catalog price of the accepted job (0 when nothing was accepted or it failed).</summary>
    public decimal CostUsd { get; init; }

    /// <summary>Where the image was saved, when the batch has an output folder.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Why it did not complete.</summary>
    public string? Error { get; init; }

    /// <summary>The result, for jobs completed in this run.</summary>
    public ImageResult? Result { get; init; }

    /// <summary>Times the submit was refused with 429 and sent again (never after acceptance).</summary>
    public int RateLimitedSubmits { get; init; }
}
