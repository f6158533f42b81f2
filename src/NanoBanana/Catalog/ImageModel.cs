namespace NanoBanana.Catalog;

/// <summary>
/// One Nano Banana model as the catalog describes it: its id, what it can do, what it costs and how long it takes.
/// Instances are immutable; build them through <see cref="ModelCatalog"/>.
/// </summary>
public sealed class ImageModel
{
    private readonly int _sizeMask;
    private readonly long _ratioMask;
    private readonly decimal[] _prices; // indexed like ImageSize.All; -1 = not offered
    private readonly Dictionary<(ImageSize, AspectRatio), PixelSize> _pixels;

    internal ImageModel(
        ImageTier tier,
        string id,
        string displayName,
        string waveSpeedSlug,
        IReadOnlyList<ImageSize> sizes,
        IReadOnlyList<AspectRatio> aspectRatios,
        int maxReferenceImages,
        int maxObjectReferences,
        int maxFaceReferences,
        bool supportsImageSearchGrounding,
        string thinking,
        TimeSpan typicalLatencyMin,
        TimeSpan typicalLatencyMax,
        IReadOnlyDictionary<ImageSize, decimal> pricesUsd,
        Dictionary<(ImageSize, AspectRatio), PixelSize> pixels,
        IReadOnlyList<string>? aliases = null,
        string? successorId = null,
        DateOnly? retirementDate = null)
    {
        Tier = tier;
        Id = id;
        DisplayName = displayName;
        WaveSpeedSlug = waveSpeedSlug;
        Sizes = sizes;
        AspectRatios = aspectRatios;
        MaxReferenceImages = maxReferenceImages;
        MaxObjectReferences = maxObjectReferences;
        MaxFaceReferences = maxFaceReferences;
        SupportsImageSearchGrounding = supportsImageSearchGrounding;
        Thinking = thinking;
        TypicalLatencyMin = typicalLatencyMin;
        TypicalLatencyMax = typicalLatencyMax;
        PricesUsd = pricesUsd;
        _pixels = pixels;
        Aliases = aliases ?? [];
        SuccessorId = string.IsNullOrWhiteSpace(successorId) ? null : successorId;
        RetirementDate = retirementDate;
        foreach (var s in sizes)
        {
            _sizeMask |= 1 << SizeIndex(s);
        }

        foreach (var r in aspectRatios)
        {
            _ratioMask |= 1L << RatioIndex(r);
        }

        _prices = new decimal[ImageSize.All.Count];
        for (var i = 0; i < _prices.Length; i++)
        {
            _prices[i] = pricesUsd.TryGetValue(ImageSize.All[i], out var p) ? p : -1m;
        }
    }

    /// <summary>The tier this model fills.</summary>
    public ImageTier Tier { get; }

    /// <summary>The model id sent to GPT Proto, e.g. <c>gemini-3.1-flash-image-preview</c>.</summary>
    public string Id { get; }

    /// <summary>A human name: "Nano Banana 2".</summary>
    public string DisplayName { get; }

    /// <summary>The route slug WaveSpeedAI uses for this model, e.g. <c>nano-banana-2</c>.</summary>
    public string WaveSpeedSlug { get; }

    /// <summary>The output sizes the model offers.</summary>
    public IReadOnlyList<ImageSize> Sizes { get; }

    /// <summary>The aspect ratios the model offers.</summary>
    public IReadOnlyList<AspectRatio> AspectRatios { get; }

    /// <summary>The most reference images (of any kind) one request may carry.</summary>
    public int MaxReferenceImages { get; }

    /// <summary>The most object references kept at high fidelity.</summary>
    public int MaxObjectReferences { get; }

    /// <summary>The most face / portrait references kept on-model.</summary>
    public int MaxFaceReferences { get; }

    /// <summary>Whether the model can ground on Google Image Search.</summary>
    public bool SupportsImageSearchGrounding { get; }

    /// <summary>How the model thinks: "none", "optional" or "always".</summary>
    public string Thinking { get; }

    /// <summary>The low end of the typical generation time.</summary>
    public TimeSpan TypicalLatencyMin { get; }

    /// <summary>The high end of the typical generation time.</summary>
    public TimeSpan TypicalLatencyMax { get; }

    /// <summary>List price in USD per output image, by size.</summary>
    public IReadOnlyDictionary<ImageSize, decimal> PricesUsd { get; }

    /// <summary>
    /// Other names that find this model in <see cref="ModelCatalog.Find"/> (for example WaveSpeedAI's route names, or a
    /// preview id the model replaced). Never sent to a provider.
    /// </summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>
    /// The id that replaces <see cref="Id"/> when a provider stops knowing it (Google's stable id for a preview), or
    /// null. A submit refused because the provider does not know <see cref="Id"/> is sent once more with this id; tier,
    /// routing and prices stay the same.
    /// </summary>
    public string? SuccessorId { get; }

    /// <summary>
    /// The date the model's owner retires (or at the earliest shuts down) <see cref="Id"/>, or null. Using the model
    /// after it logs one warning per process; the SDK keeps sending the id while the provider accepts it.
    /// </summary>
    public DateOnly? RetirementDate { get; }

    /// <summary>Whether this model's id is known by the name (id, WaveSpeed slug, alias or successor id; case-insensitive).</summary>
    public bool IsKnownAs(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.Equals(Id, name, StringComparison.OrdinalIgnoreCase) || string.Equals(WaveSpeedSlug, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(SuccessorId, name, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var alias in Aliases)
        {
            if (string.Equals(alias, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// This model under its successor id: same tier, capabilities and prices; the old id becomes an alias, and the
    /// successor has no successor or retirement date of its own.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no <see cref="SuccessorId"/>.</exception>
    public ImageModel ToSuccessor() => SuccessorId is { } next
        ? new ImageModel(Tier, next, DisplayName, WaveSpeedSlug, Sizes, AspectRatios, MaxReferenceImages, MaxObjectReferences, MaxFaceReferences,
            SupportsImageSearchGrounding, Thinking, TypicalLatencyMin, TypicalLatencyMax, PricesUsd, _pixels, [.. Aliases, Id])
        : throw new InvalidOperationException($"{this} has no successor id.");

    /// <summary>
    /// A stand-in for a model id the catalog does not know, such as a prediction accepted before the catalog changed
    /// (a preview id replaced by its stable one): it keeps <paramref name="id"/>, so messages and resume hints name it,
    /// has no price, and is timed over <paramref name="min"/> to <paramref name="max"/>.
    /// </summary>
    internal ImageModel StandIn(string id, TimeSpan min, TimeSpan max) =>
        new(Tier, id, id, id, Sizes, AspectRatios, MaxReferenceImages, MaxObjectReferences, MaxFaceReferences,
            SupportsImageSearchGrounding, Thinking, min, max, new Dictionary<ImageSize, decimal>(), _pixels);

    /// <summary>Whether the model offers this output size.</summary>
    public bool Supports(ImageSize size) => (_sizeMask & (1 << SizeIndex(size))) != 0;

    /// <summary>Whether the model offers this aspect ratio.</summary>
    public bool Supports(AspectRatio ratio) => (_ratioMask & (1L << RatioIndex(ratio))) != 0;

    /// <summary>The price per image at a size, when the model offers it.</summary>
    public bool TryGetPrice(ImageSize size, out decimal priceUsd)
    {
        priceUsd = _prices[SizeIndex(size)];
        return priceUsd >= 0;
    }

    /// <summary>The price per image at a size, or 0 when the model does not offer it (what is recorded and reserved).</summary>
    internal decimal PriceOrZero(ImageSize size) => TryGetPrice(size, out var price) ? price : 0m;

    /// <summary>The pixel dimensions of an output at this size and ratio.</summary>
    /// <exception cref="ArgumentException">The model does not offer that size or ratio.</exception>
    public PixelSize GetPixelSize(ImageSize size, AspectRatio ratio) =>
        _pixels.TryGetValue((size, ratio), out var px)
            ? px
            : throw new ArgumentException($"{DisplayName} does not produce {size} images at {ratio}.", nameof(size));

    /// <summary>"Nano Banana 2 (gemini-3.1-flash-image-preview)".</summary>
    public override string ToString() => $"{DisplayName} ({Id})";

    internal static int SizeIndex(ImageSize size) => size.NominalPixels switch
    {
        512 => 0,
        1024 => 1,
        2048 => 2,
        _ => 3,
    };

    internal static int RatioIndex(AspectRatio ratio)
    {
        var all = AspectRatio.All;
        for (var i = 0; i < all.Count; i++)
        {
            if (all[i] == ratio)
            {
                return i;
            }
        }

        return 63;
    }
}
