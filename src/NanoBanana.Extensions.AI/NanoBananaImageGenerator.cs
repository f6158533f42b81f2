using System.Diagnostics.CodeAnalysis;
using System.Drawing;
using System.Globalization;
using Microsoft.Extensions.AI;
using NanoBanana.Catalog;
using NanoBanana.Protocol;

namespace NanoBanana.Extensions.AI;

/// <summary>
/// An <see cref="IImageGenerator"/> over <see cref="INanoBananaClient"/>. Every request is routed by the tier policy
/// unless <see cref="ImageGenerationOptions.ModelId"/> pins a model. Routing requirements travel in
/// <see cref="ImageGenerationOptions.AdditionalProperties"/> under the <c>nanobanana.*</c> keys of this class.
/// </summary>
[Experimental("MEAI001")]
public sealed class NanoBananaImageGenerator : IImageGenerator
{
    /// <summary><c>nanobanana.priority</c>: Balanced, Quality, Cost or Speed.</summary>
    public const string PriorityKey = "nanobanana.priority";

    /// <summary><c>nanobanana.typography_critical</c>: bool.</summary>
    public const string TypographyCriticalKey = "nanobanana.typography_critical";

    /// <summary><c>nanobanana.complex_composition</c>: bool.</summary>
    public const string ComplexCompositionKey = "nanobanana.complex_composition";

    /// <summary><c>nanobanana.stylized</c>: bool.</summary>
    public const string StylizedKey = "nanobanana.stylized";

    /// <summary><c>nanobanana.image_search_grounding</c>: bool.</summary>
    public const string ImageSearchGroundingKey = "nanobanana.image_search_grounding";

    /// <summary><c>nanobanana.max_cost_usd</c>: decimal per image.</summary>
    public const string MaxCostUsdKey = "nanobanana.max_cost_usd";

    /// <summary><c>nanobanana.size</c>: "0.5K", "1K", "2K", "4K" (overrides <see cref="ImageGenerationOptions.ImageSize"/>).</summary>
    public const string SizeKey = "nanobanana.size";

    /// <summary><c>nanobanana.aspect_ratio</c>: "16:9" etc. (overrides <see cref="ImageGenerationOptions.ImageSize"/>).</summary>
    public const string AspectRatioKey = "nanobanana.aspect_ratio";

    /// <summary>On an original image's <c>AdditionalProperties</c>: <c>nanobanana.kind</c> = "face", "object" or "other".</summary>
    public const string ReferenceKindKey = "nanobanana.kind";

    private readonly INanoBananaClient _client;
    private readonly ModelCatalog _catalog;

    /// <summary>Creates the generator.</summary>
    public NanoBananaImageGenerator(INanoBananaClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _catalog = client.Catalog ?? ModelCatalog.Default;
        var baseUrl = client.Protocol?.BaseUrl;
        Metadata = new ImageGeneratorMetadata("nanobanana", baseUrl, _catalog.TryGet(ImageTier.NanoBanana2, out var nb2) ? nb2.Id : _catalog.Models[0].Id);
    }

    /// <summary>Provider name "nanobanana", the API base URL and the default model (Nano Banana 2).</summary>
    public ImageGeneratorMetadata Metadata { get; }

    /// <inheritdoc />
    public async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var job = ToJob(request, options);
        var count = Math.Max(1, options?.Count ?? 1);

        // One image per prediction on these routes: Count runs that many jobs (each one billed).
        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => _client.GenerateAsync(job, cancellationToken))).ConfigureAwait(false);
        var contents = new List<AIContent>();
        foreach (var result in results)
        {
            foreach (var image in result.Images)
            {
                if (options?.ResponseFormat is ImageGenerationResponseFormat.Uri or ImageGenerationResponseFormat.Hosted && image.Uri is { } uri)
                {
                    contents.Add(new UriContent(uri, image.MediaType ?? MediaType(job.OutputFormat)));
                }
                else
                {
                    var bytes = await image.GetBytesAsync(cancellationToken).ConfigureAwait(false);
                    contents.Add(new DataContent(bytes, image.MediaType ?? MediaType(job.OutputFormat)));
                }
            }
        }

        return new ImageGenerationResponse(contents) { RawRepresentation = results.Length == 1 ? results[0] : results };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ImageGeneratorMetadata))
        {
            return Metadata;
        }

        if (serviceType.IsInstanceOfType(_client))
        {
            return _client;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Nothing to dispose: the client belongs to its owner.</summary>
    public void Dispose()
    {
    }

    /// <summary>Maps a Microsoft.Extensions.AI request and options to an <see cref="ImageJob"/>.</summary>
    internal ImageJob ToJob(ImageGenerationRequest request, ImageGenerationOptions? options)
    {
        ArgumentNullException.ThrowIfNull(request);
        var references = new List<ReferenceImage>();
        foreach (var content in request.OriginalImages ?? [])
        {
            var kind = content.AdditionalProperties?.TryGetValue(ReferenceKindKey, out var k) == true
                ? Enum.Parse<ReferenceKind>(k?.ToString() ?? "Other", ignoreCase: true)
                : ReferenceKind.Other;
            references.Add(content switch
            {
                UriContent u => new ReferenceImage(u.Uri, kind),
                DataContent d when d.Uri is { } du && !du.StartsWith("data:", StringComparison.OrdinalIgnoreCase) => new ReferenceImage(new Uri(du), kind),
                // Inline bytes become a local image: uploaded before the submit (WaveSpeedAI, or a configured uploader).
                DataContent d => ReferenceImage.FromBytes(d.Data, d.MediaType, kind),
                _ => throw new NotSupportedException("Original images must be UriContent (an http(s) URL) or DataContent (image bytes)."),
            });
        }

        var props = options?.AdditionalProperties;
        var (size, ratio) = options?.ImageSize is { } px ? Nearest(px, _catalog) : (ImageSize.OneK, AspectRatio.Square);
        if (props?.TryGetValue(SizeKey, out var s) == true && s is not null)
        {
            size = ImageSize.Parse(s.ToString()!);
        }

        if (props?.TryGetValue(AspectRatioKey, out var r) == true && r is not null)
        {
            ratio = AspectRatio.Parse(r.ToString()!);
        }

        ImageTier? pinned = null;
        if (!string.IsNullOrWhiteSpace(options?.ModelId))
        {
            pinned = (_catalog.Find(options.ModelId) ?? throw new ArgumentException($"Unknown model '{options.ModelId}'. Use a tier (NanoBanana, NanoBanana2, NanoBananaPro) or one of: {string.Join(", ", _catalog.Models.Select(m => m.Id))}.", nameof(options))).Tier;
        }

        return new ImageJob(request.Prompt ?? throw new ArgumentException("The request needs a prompt.", nameof(request)))
        {
            ReferenceImages = references,
            Size = size,
            AspectRatio = ratio,
            OutputFormat = options?.MediaType is "image/jpeg" or "image/jpg" ? OutputFormat.Jpeg : OutputFormat.Png,
            Base64Output = options?.ResponseFormat is null or ImageGenerationResponseFormat.Data,
            PinnedTier = pinned,
            Priority = Get(props, PriorityKey, v => Enum.Parse<RoutingPriority>(v, ignoreCase: true), RoutingPriority.Balanced),
            TypographyCritical = Get(props, TypographyCriticalKey, bool.Parse, false),
            ComplexComposition = Get(props, ComplexCompositionKey, bool.Parse, false),
            Stylized = Get(props, StylizedKey, bool.Parse, false),
            ImageSearchGrounding = Get(props, ImageSearchGroundingKey, bool.Parse, false),
            MaxCostUsd = Get<decimal?>(props, MaxCostUsdKey, v => decimal.Parse(v, CultureInfo.InvariantCulture), null),
        };
    }

    /// <summary>The supported size and ratio nearest to a requested pixel size (ratio first, then the long side), by the pixel table of the catalog's widest model.</summary>
    /// <param name="pixels">The requested size in pixels.</param>
    /// <param name="catalog">The catalog in use; null for the built-in one.</param>
    internal static (ImageSize Size, AspectRatio Ratio) Nearest(Size pixels, ModelCatalog? catalog = null)
    {
        if (pixels.Width <= 0 || pixels.Height <= 0)
        {
            return (ImageSize.OneK, AspectRatio.Square);
        }

        var wanted = Math.Log((double)pixels.Width / pixels.Height);
        var widest = (catalog ?? ModelCatalog.Default).Models.MaxBy(m => m.Sizes.Count * m.AspectRatios.Count)!;
        var ratio = widest.AspectRatios.MinBy(r => Math.Abs(Math.Log(r.Value) - wanted));
        var longSide = Math.Max(pixels.Width, pixels.Height);
        var size = widest.Sizes.MinBy(s =>
        {
            var p = widest.GetPixelSize(s, ratio);
            return Math.Abs(Math.Max(p.Width, p.Height) - longSide);
        });
        return (size, ratio);
    }

    private static T Get<T>(AdditionalPropertiesDictionary? props, string key, Func<string, T> parse, T fallback) =>
        props?.TryGetValue(key, out var value) == true && value is not null
            ? value is T typed ? typed : parse(Convert.ToString(value, CultureInfo.InvariantCulture)!)
            : fallback;

    private static string MediaType(OutputFormat format) => format == OutputFormat.Jpeg ? "image/jpeg" : "image/png";
}

/// <summary>Extensions to get an <see cref="IImageGenerator"/> from the Nano Banana client.</summary>
[Experimental("MEAI001")]
public static class NanoBananaImageGeneratorExtensions
{
    /// <summary>Wraps the client as an <see cref="IImageGenerator"/>.</summary>
    public static IImageGenerator AsImageGenerator(this INanoBananaClient client) => new NanoBananaImageGenerator(client);

    /// <summary>Registers <see cref="IImageGenerator"/> (singleton) over the registered client (keyed when the builder is).</summary>
    public static DependencyInjection.INanoBananaBuilder AddImageGenerator(this DependencyInjection.INanoBananaBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrEmpty(builder.Name))
        {
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<IImageGenerator>(builder.Services, sp => new NanoBananaImageGenerator((INanoBananaClient)sp.GetService(typeof(INanoBananaClient))!));
        }
        else
        {
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddKeyedSingleton<IImageGenerator>(builder.Services, builder.Name, (sp, key) => new NanoBananaImageGenerator(Microsoft.Extensions.DependencyInjection.ServiceProviderKeyedServiceExtensions.GetRequiredKeyedService<INanoBananaClient>(sp, key)));
        }

        return builder;
    }
}
