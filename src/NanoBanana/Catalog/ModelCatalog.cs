using System.Globalization;

namespace NanoBanana.Catalog;

/// <summary>
/// The one table of model ids, capabilities, prices, latencies and pixel sizes. <see cref="Default"/> holds the
/// figures of Google's documentation; <see cref="Create(ModelCatalogOptions)"/> applies overrides from configuration.
/// </summary>
public sealed class ModelCatalog
{
    private const string TierNameRole = "tier name";

    private readonly ImageModel?[] _byTier = new ImageModel?[3];

    /// <summary>Creates a catalog from models, at most one per tier.</summary>
    /// <exception cref="ArgumentException">
    /// No models, two models for one tier, or a name (id, WaveSpeed slug, successor id, alias or tier name) that two
    /// models answer to.
    /// </exception>
    public ModelCatalog(IEnumerable<ImageModel> models)
        : this(models, fromConfiguration: false)
    {
    }

    // fromConfiguration: built by Create, whose messages name the configuration keys that hold a shared name.
    private ModelCatalog(IEnumerable<ImageModel> models, bool fromConfiguration)
    {
        ArgumentNullException.ThrowIfNull(models);
        var list = new List<ImageModel>();
        foreach (var model in models.OrderBy(m => m.Tier))
        {
            if (_byTier[(int)model.Tier] is not null)
            {
                throw new ArgumentException($"The catalog has two models for tier {model.Tier}; each tier takes one model.", nameof(models));
            }

            _byTier[(int)model.Tier] = model;
            list.Add(model);
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("The catalog needs at least one model.", nameof(models));
        }

        if (SharedName(list) is { } shared)
        {
            throw fromConfiguration
                ? new ArgumentException(
                    $"Catalog: '{shared.Name}' names both {Holder(shared.First, shared.FirstRole)} and {Holder(shared.Second, shared.SecondRole)}; " +
                    "a name may belong to one model only.")
                : new ArgumentException(
                    $"'{shared.Name}' names both {shared.First.Tier} (its {shared.FirstRole}) and {shared.Second.Tier} (its {shared.SecondRole}); a name may belong to one model only.",
                    nameof(models));
        }

        Models = list;
    }

    /// <summary>The built-in catalog: the three models with the figures of Google's documentation (2026).</summary>
    public static ModelCatalog Default { get; } = new(DefaultModels());

    /// <summary>The models, in tier order (Nano Banana, Nano Banana 2, Nano Banana Pro).</summary>
    public IReadOnlyList<ImageModel> Models { get; }

    /// <summary>The model for a tier.</summary>
    /// <exception cref="KeyNotFoundException">The catalog has no model for that tier.</exception>
    public ImageModel this[ImageTier tier] => TryGet(tier, out var m) ? m : throw new KeyNotFoundException($"The catalog has no model for tier {tier}.");

    /// <summary>Looks up the model for a tier.</summary>
    public bool TryGet(ImageTier tier, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ImageModel? model)
    {
        var index = (int)tier;
        model = index is >= 0 and < 3 ? _byTier[index] : null;
        return model is not null;
    }

    /// <summary>
    /// Finds a model by its GPT Proto id, its WaveSpeed slug, one of its <see cref="ImageModel.Aliases"/>, its
    /// successor id or its tier name (case-insensitive; a "google/" style prefix is ignored).
    /// </summary>
    public ImageModel? Find(string idOrSlugOrTier)
    {
        ArgumentNullException.ThrowIfNull(idOrSlugOrTier);
        var key = idOrSlugOrTier.Trim();
        var slash = key.LastIndexOf('/');
        if (slash >= 0)
        {
            key = key[(slash + 1)..]; // "google/gemini-3-pro-image-preview"
        }

        foreach (var m in Models)
        {
            if (string.Equals(m.Id, key, StringComparison.OrdinalIgnoreCase))
            {
                return m;
            }
        }

        foreach (var m in Models)
        {
            if (m.IsKnownAs(key) || string.Equals(m.Tier.ToString(), key, StringComparison.OrdinalIgnoreCase))
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>
    /// Builds a catalog from the defaults and the given overrides.
    /// </summary>
    /// <exception cref="ArgumentException">An override makes no sense; the message names the key and the rule.</exception>
    public static ModelCatalog Create(ModelCatalogOptions? options)
    {
        if (options is null || (options.Models.Count == 0 && options.Disabled.Count == 0))
        {
            return Default;
        }

        foreach (var key in options.Models.Keys)
        {
            if (!IsTierName(key))
            {
                throw new ArgumentException($"Catalog:Models:{key}: unknown tier. Allowed: NanoBanana, NanoBanana2, NanoBananaPro (tier names, not model ids).");
            }
        }

        foreach (var key in options.Disabled)
        {
            if (!IsTierName(key))
            {
                throw new ArgumentException($"Catalog:Disabled: '{key}' is not a tier. Allowed: NanoBanana, NanoBanana2, NanoBananaPro.");
            }
        }

        var models = new List<ImageModel>();
        foreach (var baseline in Default.Models)
        {
            if (options.Disabled.Any(d => string.Equals(d, baseline.Tier.ToString(), StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            models.Add(options.Models.TryGetValue(baseline.Tier.ToString(), out var o) ? Apply(baseline, o) : baseline);
        }

        if (models.Count == 0)
        {
            throw new ArgumentException("Catalog:Disabled leaves no model; keep at least one of NanoBanana, NanoBanana2, NanoBananaPro.");
        }

        return new ModelCatalog(models, fromConfiguration: true);
    }

    // Where a model holds a name, as the configuration key that sets it.
    private static string Holder(ImageModel model, string role) =>
        role == TierNameRole ? $"{model.Tier} (its tier name)" : $"{model.Tier} (Catalog:Models:{model.Tier}:{role})";

    private static bool IsTierName(string key) => Enum.TryParse<ImageTier>(key, ignoreCase: true, out _) && !int.TryParse(key, out _);

    // The first name two models answer to (Find would silently pick one), and how each holds it.
    private static (string Name, ImageModel First, string FirstRole, ImageModel Second, string SecondRole)? SharedName(List<ImageModel> models)
    {
        for (var i = 0; i < models.Count; i++)
        {
            for (var j = i + 1; j < models.Count; j++)
            {
                foreach (var (name, role) in Names(models[i]))
                {
                    if (Names(models[j]).FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase)) is { Name: not null } other)
                    {
                        return (name, models[i], role, models[j], other.Role);
                    }
                }
            }
        }

        return null;

        static IEnumerable<(string Name, string Role)> Names(ImageModel m)
        {
            yield return (m.Id, nameof(ImageModel.Id));
            yield return (m.WaveSpeedSlug, nameof(ImageModel.WaveSpeedSlug));
            if (m.SuccessorId is { } successor)
            {
                yield return (successor, nameof(ImageModel.SuccessorId));
            }

            foreach (var alias in m.Aliases)
            {
                yield return (alias, nameof(ImageModel.Aliases));
            }

            yield return (m.Tier.ToString(), TierNameRole);
        }
    }

    private static ImageModel Apply(ImageModel b, ModelOverrideOptions o)
    {
        var path = $"Catalog:Models:{b.Tier}";
        var id = o.Id ?? b.Id;
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new ArgumentException($"{path}:Id must not be empty.");
        }

        RouteName(id, $"{path}:Id");
        var slug = RouteName(o.WaveSpeedSlug ?? b.WaveSpeedSlug, $"{path}:WaveSpeedSlug");

        var sizes = o.Sizes is null ? b.Sizes : o.Sizes.Select(s => ParseOr<ImageSize>(s, $"{path}:Sizes", ImageSize.TryParse, "0.5K, 1K, 2K, 4K")).Distinct().Order().ToArray();
        if (sizes.Count == 0)
        {
            throw new ArgumentException($"{path}:Sizes must list at least one size.");
        }

        var ratios = o.AspectRatios is null ? b.AspectRatios : o.AspectRatios.Select(s => ParseOr<AspectRatio>(s, $"{path}:AspectRatios", AspectRatio.TryParse, string.Join(", ", AspectRatio.All))).Distinct().ToArray();
        if (ratios.Count == 0)
        {
            throw new ArgumentException($"{path}:AspectRatios must list at least one ratio.");
        }

        IReadOnlyDictionary<ImageSize, decimal> prices = b.PricesUsd;
        if (o.Prices is not null)
        {
            var table = new Dictionary<ImageSize, decimal>();
            foreach (var (key, price) in o.Prices)
            {
                var size = ParseOr<ImageSize>(key, $"{path}:Prices", ImageSize.TryParse, "0.5K, 1K, 2K, 4K");
                if (price < 0)
                {
                    throw new ArgumentException($"{path}:Prices:{key} is {price.ToString(CultureInfo.InvariantCulture)}; a price must be zero or more.");
                }

                table[size] = price;
            }

            prices = table;
        }

        foreach (var size in sizes)
        {
            if (!prices.ContainsKey(size))
            {
                throw new ArgumentException($"{path}: size {size} is offered but has no price; add {path}:Prices:{size}.");
            }
        }

        var maxRefs = NonNegative(o.MaxReferenceImages ?? b.MaxReferenceImages, $"{path}:MaxReferenceImages");
        // A kind's limit left at its default follows a lowered total; one set above the total contradicts it.
        var maxObjects = NonNegative(o.MaxObjectReferences ?? Math.Min(b.MaxObjectReferences, maxRefs), $"{path}:MaxObjectReferences");
        var maxFaces = NonNegative(o.MaxFaceReferences ?? Math.Min(b.MaxFaceReferences, maxRefs), $"{path}:MaxFaceReferences");
        foreach (var (kind, limit) in new[] { ("MaxObjectReferences", maxObjects), ("MaxFaceReferences", maxFaces) })
        {
            if (limit > maxRefs)
            {
                throw new ArgumentException($"{path}:{kind} is {limit}, more than MaxReferenceImages ({maxRefs}); a request cannot carry more of one kind than in all.");
            }
        }

        var min = o.TypicalLatencyMinSeconds is { } mn ? Seconds(mn, $"{path}:TypicalLatencyMinSeconds") : b.TypicalLatencyMin;
        var max = o.TypicalLatencyMaxSeconds is { } mx ? Seconds(mx, $"{path}:TypicalLatencyMaxSeconds") : b.TypicalLatencyMax;
        if (max < min)
        {
            throw new ArgumentException($"{path}: typical latency must satisfy 0 <= TypicalLatencyMinSeconds <= TypicalLatencyMaxSeconds (got {min.TotalSeconds}..{max.TotalSeconds}).");
        }

        // A new id without a new successor drops the old successor (it belonged to the old id); "" clears it explicitly.
        var successor = o.SuccessorId ?? (o.Id is null || string.Equals(o.Id, b.Id, StringComparison.OrdinalIgnoreCase) ? b.SuccessorId : null);
        if (!string.IsNullOrWhiteSpace(successor))
        {
            if (string.Equals(successor.Trim(), id, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"{path}:SuccessorId is the model's own id '{id}'.");
            }

            RouteName(successor.Trim(), $"{path}:SuccessorId");
        }

        var retirement = o.RetirementDate ?? (o.Id is null || string.Equals(o.Id, b.Id, StringComparison.OrdinalIgnoreCase) ? b.RetirementDate : null);
        var aliases = (o.Aliases ?? b.Aliases).Select(a => a.Trim()).Where(a => a.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        return new ImageModel(
            b.Tier, id, o.DisplayName ?? b.DisplayName, slug, sizes, ratios, maxRefs, maxObjects, maxFaces,
            o.SupportsImageSearchGrounding ?? b.SupportsImageSearchGrounding, b.Thinking, min, max, prices, PixelTable(b.Tier, sizes, ratios),
            aliases, successor?.Trim(), retirement);
    }

    private delegate bool TryParser<T>(string? text, out T value);

    private static T ParseOr<T>(string text, string path, TryParser<T> parse, string allowed) =>
        parse(text, out var value) ? value : throw new ArgumentException($"{path}: '{text}' is not valid. Allowed: {allowed}.");

    // Ids and slugs go into request paths ("google/{id}/text-to-image"): one path segment, no escaping needed.
    private static string RouteName(string value, string path)
    {
        if (value.Length == 0 || value is "." or ".." || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '~' or ':' or '@' or '+'))
        {
            throw new ArgumentException(
                $"{path} '{value}' cannot name a model in a request path; use letters, digits and . - _ ~ : @ + (no spaces or slashes).");
        }

        return value;
    }

    // Catalog latencies are seconds; a day is far beyond any image job and keeps TimeSpan from overflowing.
    private static TimeSpan Seconds(double value, string path) =>
        double.IsFinite(value) && value is >= 0 and <= MaxLatencySeconds
            ? TimeSpan.FromSeconds(value)
            : throw new ArgumentException($"{path} is {value.ToString(CultureInfo.InvariantCulture)}; it must be a number of seconds from 0 to {MaxLatencySeconds}.");

    private const double MaxLatencySeconds = 86_400;

    private static int NonNegative(int value, string path) =>
        value >= 0 ? value : throw new ArgumentException($"{path} is {value}; it must be zero or more.");

    private static IEnumerable<ImageModel> DefaultModels()
    {
        var sizesNb2 = new[] { ImageSize.HalfK, ImageSize.OneK, ImageSize.TwoK, ImageSize.FourK };
        var sizesPro = new[] { ImageSize.OneK, ImageSize.TwoK, ImageSize.FourK };
        var sizesNb = new[] { ImageSize.OneK };

        yield return new ImageModel(
            ImageTier.NanoBanana, "gemini-2.5-flash-image", "Nano Banana", "gemini-2.5-flash-image", sizesNb, AspectRatio.Standard,
            3, 3, 3, false, "none", TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(6),
            new Dictionary<ImageSize, decimal> { [ImageSize.OneK] = 0.039m },
            PixelTable(ImageTier.NanoBanana, sizesNb, AspectRatio.Standard),
            aliases: ["nano-banana"], successorId: null, retirementDate: new DateOnly(2026, 10, 2)); // earliest shutdown Google announced
        yield return new ImageModel(
            ImageTier.NanoBanana2, "gemini-3.1-flash-image-preview", "Nano Banana 2", "nano-banana-2", sizesNb2, AspectRatio.All,
            14, 10, 4, true, "optional", TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8),
            new Dictionary<ImageSize, decimal> { [ImageSize.HalfK] = 0.045m, [ImageSize.OneK] = 0.067m, [ImageSize.TwoK] = 0.101m, [ImageSize.FourK] = 0.151m },
            PixelTable(ImageTier.NanoBanana2, sizesNb2, AspectRatio.All),
            aliases: [], successorId: "gemini-3.1-flash-image", retirementDate: new DateOnly(2026, 6, 25)); // preview shut down by Google
        yield return new ImageModel(
            ImageTier.NanoBananaPro, "gemini-3-pro-image-preview", "Nano Banana Pro", "nano-banana-pro", sizesPro, AspectRatio.Standard,
            14, 6, 5, false, "always", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20),
            new Dictionary<ImageSize, decimal> { [ImageSize.OneK] = 0.134m, [ImageSize.TwoK] = 0.134m, [ImageSize.FourK] = 0.24m },
            PixelTable(ImageTier.NanoBananaPro, sizesPro, AspectRatio.Standard),
            aliases: [], successorId: "gemini-3-pro-image", retirementDate: new DateOnly(2026, 6, 25)); // preview shut down by Google
    }

    // Pixel sizes from Google's tables. Nano Banana 2 and Pro share one table; Nano Banana (2.5) has its own 1K row.
    // Columns: ratio, 0.5K, 1K, 2K, 4K, NB 1K.
    private static class PixelData
    {
        internal static readonly (string Ratio, int W05, int H05, int W1, int H1, int W2, int H2, int W4, int H4, int WNb, int HNb)[] Rows =
    [
        ("1:1", 512, 512, 1024, 1024, 2048, 2048, 4096, 4096, 1024, 1024),
        ("2:3", 424, 632, 848, 1264, 1696, 2528, 3392, 5056, 832, 1248),
        ("3:2", 632, 424, 1264, 848, 2528, 1696, 5056, 3392, 1248, 832),
        ("3:4", 448, 600, 896, 1200, 1792, 2400, 3584, 4800, 864, 1184),
        ("4:3", 600, 448, 1200, 896, 2400, 1792, 4800, 3584, 1184, 864),
        ("4:5", 464, 576, 928, 1152, 1856, 2304, 3712, 4608, 896, 1152),
        ("5:4", 576, 464, 1152, 928, 2304, 1856, 4608, 3712, 1152, 896),
        ("9:16", 384, 688, 768, 1376, 1536, 2752, 3072, 5504, 768, 1344),
        ("16:9", 688, 384, 1376, 768, 2752, 1536, 5504, 3072, 1344, 768),
        ("21:9", 792, 336, 1584, 672, 3168, 1344, 6336, 2688, 1536, 672),
        ("1:4", 256, 1024, 512, 2048, 1024, 4096, 2048, 8192, 0, 0),
        ("4:1", 1024, 256, 2048, 512, 4096, 1024, 8192, 2048, 0, 0),
        ("1:8", 192, 1536, 384, 3072, 768, 6144, 1536, 12288, 0, 0),
        ("8:1", 1536, 192, 3072, 384, 6144, 768, 12288, 1536, 0, 0),
    ];
    }

    private static Dictionary<(ImageSize, AspectRatio), PixelSize> PixelTable(ImageTier tier, IReadOnlyList<ImageSize> sizes, IReadOnlyList<AspectRatio> ratios)
    {
        var table = new Dictionary<(ImageSize, AspectRatio), PixelSize>();
        foreach (var row in PixelData.Rows)
        {
            var ratio = AspectRatio.Parse(row.Ratio);
            if (!ratios.Contains(ratio))
            {
                continue;
            }

            foreach (var size in sizes)
            {
                var px = tier == ImageTier.NanoBanana && size == ImageSize.OneK && row.WNb > 0
                    ? new PixelSize(row.WNb, row.HNb)
                    : size.NominalPixels switch
                    {
                        512 => new PixelSize(row.W05, row.H05),
                        1024 => new PixelSize(row.W1, row.H1),
                        2048 => new PixelSize(row.W2, row.H2),
                        _ => new PixelSize(row.W4, row.H4),
                    };
                table[(size, ratio)] = px;
            }
        }

        return table;
    }
}
