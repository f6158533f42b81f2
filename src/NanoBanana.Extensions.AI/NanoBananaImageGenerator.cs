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
        // The provider URI reaches logs (LoggingImageGenerator at Trace) and spans: scheme, host, port and path, never user info or a query.
        var baseUrl = client.Protocol?.BaseUrl is { IsAbsoluteUri: true } url
            ? new Uri(url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped))
            : null;
        Metadata = new ImageGeneratorMetadata("nanobanana", baseUrl, _catalog.TryGet(ImageTier.NanoBanana2, out var nb2) ? nb2.Id : _catalog.Models[0].Id);
    }

    /// <summary>
    /// The largest <see cref="ImageGenerationOptions.Count"/> one call accepts (as OpenAI's image API): every image is a
    /// prediction of its own, started at once and billed, so a stray large count is refused before anything is sent.
    /// </summary>
    public const int MaxCount = 10;

    /// <summary>Provider name "nanobanana", the API base URL (without user info or query) and the default model (Nano Banana 2).</summary>
    public ImageGeneratorMetadata Metadata { get; }

    /// <inheritdoc />
    /// <remarks>
    /// <see cref="ImageGenerationOptions.Count"/> (1 to <see cref="MaxCount"/>) runs that many predictions at once (one
    /// image each, each billed).
    /// With more than one, a prediction that does not complete never costs the others: the call throws
    /// <see cref="ImageGenerationIncompleteException"/> with the completed results and every failure's prediction id
    /// (inside a <see cref="PredictionCanceledException"/> when <paramref name="cancellationToken"/> was cancelled).
    /// A request that is invalid throws <see cref="ArgumentException"/> before anything is sent.
    /// </remarks>
    public async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var job = ToJob(request, options);
        var count = options?.Count ?? 1;
        if (count is < 1 or > MaxCount)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), count,
                $"ImageGenerationOptions.Count must be from 1 to {MaxCount} (NanoBananaImageGenerator.MaxCount), not {count}: each image is a prediction of its own, billed. For more, use the batch runner (client.RunBatchAsync), which bounds concurrency and spend.");
        }

        if (count == 1)
        {
            var one = await _client.GenerateAsync(job, cancellationToken).ConfigureAwait(false);
            return new ImageGenerationResponse(await ContentsAsync([one], job, options, cancellationToken).ConfigureAwait(false)) { RawRepresentation = one };
        }

        // Every prediction runs to its end before anything is thrown, so a failure never hides what the others cost.
        // Each call inside an async lambda: a client that throws before returning its task (a test double, a
        // decorator) fails that run alone instead of leaving the runs already started unobserved.
        var runs = Enumerable.Range(0, count).Select(async _ => await _client.GenerateAsync(job, cancellationToken).ConfigureAwait(false)).ToArray();
        try
        {
            await Task.WhenAll(runs).ConfigureAwait(false);
        }
        catch (Exception)
        {
            var completed = runs.Where(r => r.IsCompletedSuccessfully).Select(r => r.Result).ToArray();
            var failures = new List<Exception>();
            foreach (var run in runs.Where(r => !r.IsCompletedSuccessfully))
            {
                // Awaiting a finished task gives back its own exception; a cancelled task's is not in Task.Exception.
                try
                {
                    await run.ConfigureAwait(false);
                }
                catch (Exception failure)
                {
                    failures.Add(failure);
                }
            }

            throw Incomplete(completed, failures, cancellationToken);
        }

        var results = runs.Select(r => r.Result).ToArray();
        try
        {
            return new ImageGenerationResponse(await ContentsAsync(results, job, options, cancellationToken).ConfigureAwait(false)) { RawRepresentation = results };
        }
        catch (Exception ex) when (ex is NanoBananaException or OperationCanceledException)
        {
            // An image that could not be fetched: every prediction completed, and each result can fetch its images again.
            throw Incomplete(results, [ex], cancellationToken);
        }
    }

    /// <summary>
    /// The exception for a request of several predictions that did not all complete: the first failure as it is when
    /// nothing was accepted or may have been (every job refused before money was at stake), otherwise an
    /// <see cref="ImageGenerationIncompleteException"/>, inside a <see cref="PredictionCanceledException"/> when the
    /// caller cancelled and every failure is a cancellation.
    /// </summary>
    internal static Exception Incomplete(IReadOnlyList<ImageResult> completed, IReadOnlyList<Exception> failures, CancellationToken cancellationToken)
    {
        if (completed.Count == 0 && failures.All(f => ImageGenerationIncompleteException.IdOf(f) is null && f is not SubmitOutcomeUnknownException))
        {
            return failures[0];
        }

        var incomplete = new ImageGenerationIncompleteException(completed, failures);
        if (cancellationToken.IsCancellationRequested && failures.All(f => f is OperationCanceledException))
        {
            var first = failures.OfType<PredictionCanceledException>().FirstOrDefault(f => f.PredictionId is not null);
            var done = completed.Count > 0 ? completed[0] : null;
            return new PredictionCanceledException(incomplete.Message, incomplete, cancellationToken)
            {
                PredictionId = first?.PredictionId ?? done?.PredictionId,
                ModelId = first?.ModelId ?? done?.Model.Id,
                LastStatus = first?.LastStatus,
            };
        }

        return incomplete;
    }

    private static async Task<List<AIContent>> ContentsAsync(IReadOnlyList<ImageResult> results, ImageJob job, ImageGenerationOptions? options, CancellationToken cancellationToken)
    {
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

        return contents;
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

    /// <summary>
    /// Maps a Microsoft.Extensions.AI request and options to an <see cref="ImageJob"/>. When
    /// <see cref="ImageGenerationOptions.RawRepresentationFactory"/> returns an <see cref="ImageJob"/>, that job is the
    /// starting point (its deadline, fallback, sync mode, webhook and the rest); what the request and the options say
    /// is laid over it. Another type from the factory is ignored, as Microsoft.Extensions.AI's own adapters do.
    /// </summary>
    internal ImageJob ToJob(ImageGenerationRequest request, ImageGenerationOptions? options)
    {
        ArgumentNullException.ThrowIfNull(request);
        var start = options?.RawRepresentationFactory?.Invoke(this) as ImageJob;
        var references = new List<ReferenceImage>();
        foreach (var content in request.OriginalImages ?? [])
        {
            var kind = Get(content.AdditionalProperties, ReferenceKindKey, ParseEnum<ReferenceKind>, ReferenceKind.Other, "request", "face, object or other");
            references.Add(content switch
            {
                UriContent u => new ReferenceImage(u.Uri, kind),
                // Inline bytes become a local image: uploaded before the submit (WaveSpeedAI, or a configured uploader).
                DataContent d => ReferenceImage.FromBytes(d.Data, d.MediaType, kind),
                _ => throw new NotSupportedException("Original images must be UriContent (an http(s) URL) or DataContent (image bytes)."),
            });
        }

        var props = options?.AdditionalProperties;
        if (options?.ImageSize is { } asked && (asked.Width <= 0 || asked.Height <= 0))
        {
            // It was run as 1K square and billed; null is how a caller asks for the default.
            throw new ArgumentException($"ImageGenerationOptions.ImageSize must have a positive width and height (got {asked.Width.ToString(CultureInfo.InvariantCulture)}x{asked.Height.ToString(CultureInfo.InvariantCulture)}); leave it null for the default, 1K square.", nameof(options));
        }

        var (size, ratio) = options?.ImageSize is { } px ? Nearest(px, _catalog) : (start?.Size ?? ImageSize.OneK, start?.AspectRatio ?? AspectRatio.Square);
        size = Get(props, SizeKey, ImageSize.Parse, size, nameof(options), "a size such as 0.5K, 1K, 2K or 4K");
        ratio = Get(props, AspectRatioKey, AspectRatio.Parse, ratio, nameof(options), "a ratio such as 1:1 or 16:9");

        var pinned = start?.PinnedTier;
        if (!string.IsNullOrWhiteSpace(options?.ModelId))
        {
            pinned = (_catalog.Find(options.ModelId) ?? throw new ArgumentException($"Unknown model '{options.ModelId}'. Use a tier (NanoBanana, NanoBanana2, NanoBananaPro) or one of: {string.Join(", ", _catalog.Models.Select(m => m.Id))}.", nameof(options))).Tier;
        }

        var prompt = request.Prompt ?? start?.Prompt ?? throw new ArgumentException("The request needs a prompt.", nameof(request));
        return (start ?? new ImageJob(prompt)) with
        {
            Prompt = prompt,
            ReferenceImages = references.Count > 0 || start is null ? references : start.ReferenceImages,
            Size = size,
            AspectRatio = ratio,
            OutputFormat = Format(options?.MediaType, start?.OutputFormat ?? OutputFormat.Png, nameof(options)),
            Base64Output = options?.ResponseFormat is null or ImageGenerationResponseFormat.Data,
            PinnedTier = pinned,
            Priority = Get(props, PriorityKey, ParseEnum<RoutingPriority>, start?.Priority ?? RoutingPriority.Balanced, nameof(options), "Balanced, Quality, Cost or Speed"),
            TypographyCritical = Get(props, TypographyCriticalKey, bool.Parse, start?.TypographyCritical ?? false, nameof(options), Boolean),
            ComplexComposition = Get(props, ComplexCompositionKey, bool.Parse, start?.ComplexComposition ?? false, nameof(options), Boolean),
            Stylized = Get(props, StylizedKey, bool.Parse, start?.Stylized ?? false, nameof(options), Boolean),
            ImageSearchGrounding = Get(props, ImageSearchGroundingKey, bool.Parse, start?.ImageSearchGrounding ?? false, nameof(options), Boolean),
            MaxCostUsd = Get(props, MaxCostUsdKey, v => decimal.Parse(v, NumberStyles.Number, CultureInfo.InvariantCulture), start?.MaxCostUsd, nameof(options), "a price in USD such as 0.05"),
        };
    }

    /// <summary>The supported size and ratio nearest to a requested pixel size (ratio first, then the long side), by the pixel table of the catalog's widest model.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A width or height that is not positive (the caller checks first).</exception>
    /// <param name="pixels">The requested size in pixels.</param>
    /// <param name="catalog">The catalog in use; null for the built-in one.</param>
    internal static (ImageSize Size, AspectRatio Ratio) Nearest(Size pixels, ModelCatalog? catalog = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixels.Width, nameof(pixels));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixels.Height, nameof(pixels));

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

    private const string Boolean = "true or false";

    /// <summary>
    /// A <c>nanobanana.*</c> property's value: absent or null gives <paramref name="fallback"/>; a value that does
    /// not parse is an <see cref="ArgumentException"/> naming the key and what it must be, before anything is sent.
    /// </summary>
    private static T Get<T>(AdditionalPropertiesDictionary? props, string key, Func<string, T> parse, T fallback, string parameter, string expected)
    {
        if (props?.TryGetValue(key, out var value) != true || value is null)
        {
            return fallback;
        }

        if (value is T typed)
        {
            return typed;
        }

        var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        try
        {
            return parse(text);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new ArgumentException($"AdditionalProperties[\"{key}\"] must be {expected}, not \"{text}\".", parameter, ex);
        }
    }

    /// <summary>A named member of <typeparamref name="TEnum"/>, case-insensitive; numbers are not names.</summary>
    private static TEnum ParseEnum<TEnum>(string text)
        where TEnum : struct, Enum =>
        !string.IsNullOrWhiteSpace(text) && !char.IsAsciiDigit(text.Trim()[0]) && text.Trim()[0] != '-' && Enum.TryParse<TEnum>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new FormatException($"'{text}' is not one of {string.Join(", ", Enum.GetNames<TEnum>())}.");

    // The output format a requested media type asks for: PNG or JPEG, what the models produce; none asked for (null)
    // keeps `unasked`. Another type is refused before anything is sent, rather than answered with an image of a type the caller
    // did not ask for.
    private static OutputFormat Format(string? mediaType, OutputFormat unasked, string parameter) => mediaType?.Trim().ToLowerInvariant() switch
    {
        null => unasked,
        "" or "image/png" => OutputFormat.Png,
        "image/jpeg" or "image/jpg" => OutputFormat.Jpeg,
        _ => throw new ArgumentException($"ImageGenerationOptions.MediaType must be image/png or image/jpeg (the formats the models produce), not '{mediaType}'.", parameter),
    };

    private static string MediaType(OutputFormat format) => format == OutputFormat.Jpeg ? "image/jpeg" : "image/png";
}
