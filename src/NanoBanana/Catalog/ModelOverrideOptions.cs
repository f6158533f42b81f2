namespace NanoBanana.Catalog;

/// <summary>The overridable facts about one model. Null means "keep the default".</summary>
public sealed class ModelOverrideOptions
{
    /// <summary>The model id, e.g. <c>gemini-3.1-flash-image</c> once the GA id replaces the preview.</summary>
    public string? Id { get; set; }

    /// <summary>The WaveSpeedAI slug.</summary>
    public string? WaveSpeedSlug { get; set; }

    /// <summary>The display name.</summary>
    public string? DisplayName { get; set; }

    /// <summary>Prices in USD per image keyed by size ("0.5K", "1K", "2K", "4K"); replaces the whole table.</summary>
    public Dictionary<string, decimal>? Prices { get; set; }

    /// <summary>Offered sizes; replaces the default list. Each needs a price.</summary>
    public List<string>? Sizes { get; set; }

    /// <summary>Offered aspect ratios; replaces the default list.</summary>
    public List<string>? AspectRatios { get; set; }

    /// <summary>Maximum reference images.</summary>
    public int? MaxReferenceImages { get; set; }

    /// <summary>Maximum object references.</summary>
    public int? MaxObjectReferences { get; set; }

    /// <summary>Maximum face references.</summary>
    public int? MaxFaceReferences { get; set; }

    /// <summary>Image-search grounding support.</summary>
    public bool? SupportsImageSearchGrounding { get; set; }

    /// <summary>Other names that find the model (replaces the default list). Never sent to a provider.</summary>
    public List<string>? Aliases { get; set; }

    /// <summary>
    /// The id to move to when the provider does not know <see cref="Id"/>; an empty string means none. Changing
    /// <see cref="Id"/> without setting this drops the default successor (it belonged to the default id).
    /// </summary>
    public string? SuccessorId { get; set; }

    /// <summary>
    /// The retirement (or earliest shutdown) date of the id, e.g. <c>2026-06-25</c>; past it, one warning per process.
    /// Changing <see cref="Id"/> without setting this drops the default date.
    /// </summary>
    public DateOnly? RetirementDate { get; set; }

    /// <summary>Low end of the typical latency, in seconds.</summary>
    public double? TypicalLatencyMinSeconds { get; set; }

    /// <summary>High end of the typical latency, in seconds.</summary>
    public double? TypicalLatencyMaxSeconds { get; set; }

    /// <summary>A copy that later changes to this object do not reach.</summary>
    internal ModelOverrideOptions Snapshot()
    {
        var copy = (ModelOverrideOptions)MemberwiseClone();
        copy.Prices = Prices is null ? null : new Dictionary<string, decimal>(Prices, Prices.Comparer);
        copy.Sizes = Sizes is null ? null : [.. Sizes];
        copy.AspectRatios = AspectRatios is null ? null : [.. AspectRatios];
        copy.Aliases = Aliases is null ? null : [.. Aliases];
        return copy;
    }
}
