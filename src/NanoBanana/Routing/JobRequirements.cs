namespace NanoBanana.Routing;

/// <summary>What a job needs from a model. The tier policy turns this into a <see cref="RoutingDecision"/>.</summary>
public sealed record JobRequirements
{
    /// <summary>Output size; default 1K.</summary>
    public ImageSize Size { get; init; } = ImageSize.OneK;

    /// <summary>Aspect ratio; default 1:1.</summary>
    public AspectRatio AspectRatio { get; init; } = AspectRatio.Square;

    /// <summary>Portrait / face reference images that must stay on-model.</summary>
    public int FaceCount { get; init; }

    /// <summary>Object reference images.</summary>
    public int ObjectCount { get; init; }

    /// <summary>All reference images (at least faces + objects); 0 means "faces + objects".</summary>
    public int ReferenceImageCount { get; init; }

    /// <summary>Rendered text must be right (packaging, infographics, posters).</summary>
    public bool TypographyCritical { get; init; }

    /// <summary>A complex multi-subject composition with strict consistency.</summary>
    public bool ComplexComposition { get; init; }

    /// <summary>The job needs Google Image Search grounding.</summary>
    public bool ImageSearchGrounding { get; init; }

    /// <summary>Illustrative, stylized or low-stakes work.</summary>
    public bool Stylized { get; init; }

    /// <summary>What to optimise for; default <see cref="RoutingPriority.Balanced"/>.</summary>
    public RoutingPriority Priority { get; init; }

    /// <summary>The most the job may cost per image in USD (inclusive), or <see langword="null"/> for no cap.</summary>
    public decimal? MaxCostUsd { get; init; }

    /// <summary>Pin the job to one tier; it must still be capable.</summary>
    public ImageTier? PinnedTier { get; init; }

    /// <summary>The total reference images: <see cref="ReferenceImageCount"/>, or faces + objects when it is 0.</summary>
    public int EffectiveReferenceCount => ReferenceImageCount == 0 ? FaceCount + ObjectCount : ReferenceImageCount;

    /// <summary>Whether the job has a premium need: typography-critical, complex composition or a 4K deliverable.</summary>
    public bool HasPremiumNeed => TypographyCritical || ComplexComposition || Size == ImageSize.FourK;

    /// <summary>Checks the requirements are coherent.</summary>
    /// <exception cref="ArgumentException">A count is negative, faces + objects exceed the total, or the cost cap is not positive.</exception>
    public void Validate()
    {
        if (FaceCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(FaceCount), FaceCount, $"{nameof(FaceCount)} must be zero or more.");
        }

        if (ObjectCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ObjectCount), ObjectCount, $"{nameof(ObjectCount)} must be zero or more.");
        }

        if (ReferenceImageCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ReferenceImageCount), ReferenceImageCount, $"{nameof(ReferenceImageCount)} must be zero or more.");
        }

        if (ReferenceImageCount != 0 && ReferenceImageCount < FaceCount + ObjectCount)
        {
            throw new ArgumentException(
                $"{nameof(ReferenceImageCount)} is {ReferenceImageCount} but {nameof(FaceCount)} + {nameof(ObjectCount)} is {FaceCount + ObjectCount}; the total must include every face and object reference (or be 0).",
                nameof(ReferenceImageCount));
        }

        if (MaxCostUsd is { } cap && cap <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCostUsd), cap, $"{nameof(MaxCostUsd)} must be greater than zero (it is a per-image cap in USD).");
        }

        if (!Enum.IsDefined(Priority))
        {
            throw new ArgumentOutOfRangeException(nameof(Priority), Priority, $"{nameof(Priority)} must be Balanced, Quality, Cost or Speed.");
        }

        if (PinnedTier is { } pinned && !Enum.IsDefined(pinned))
        {
            throw new ArgumentOutOfRangeException(nameof(PinnedTier), pinned, $"{nameof(PinnedTier)} must be NanoBanana, NanoBanana2 or NanoBananaPro.");
        }
    }
}
