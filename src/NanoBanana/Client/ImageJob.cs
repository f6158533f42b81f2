using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana;

/// <summary>
/// One image job: the prompt, reference images (which make it an edit), output options and routing requirements.
/// The face / object counts the router uses come from <see cref="ReferenceImages"/>.
/// </summary>
/// <param name="Prompt">What to generate; required.</param>
public sealed record ImageJob(string Prompt)
{
    /// <summary>Input images. Non-empty makes the job an image edit.</summary>
    public IReadOnlyList<ReferenceImage> ReferenceImages { get; init; } = [];

    /// <summary>Output size; default 1K.</summary>
    public ImageSize Size { get; init; } = ImageSize.OneK;

    /// <summary>Aspect ratio; default 1:1.</summary>
    public AspectRatio AspectRatio { get; init; } = AspectRatio.Square;

    /// <summary>Output format; default PNG.</summary>
    public OutputFormat OutputFormat { get; init; } = OutputFormat.Png;

    /// <summary>Receive outputs inline as bytes (base64 on the wire) instead of URLs.</summary>
    public bool Base64Output { get; init; }

    /// <summary>Rendered text must be right.</summary>
    public bool TypographyCritical { get; init; }

    /// <summary>Complex multi-subject composition.</summary>
    public bool ComplexComposition { get; init; }

    /// <summary>Needs Google Image Search grounding (routing only: the /api/v3 routes have no documented flag for it).</summary>
    public bool ImageSearchGrounding { get; init; }

    /// <summary>Stylized, illustrative, low-stakes work.</summary>
    public bool Stylized { get; init; }

    /// <summary>Routing priority; default Balanced.</summary>
    public RoutingPriority Priority { get; init; }

    /// <summary>Per-image cost cap in USD (inclusive).</summary>
    public decimal? MaxCostUsd { get; init; }

    /// <summary>Pin a tier (it must still be capable; no fallbacks).</summary>
    public ImageTier? PinnedTier { get; init; }

    /// <summary>Sync mode for this job; null uses <see cref="NanoBananaOptions.UseSyncMode"/>.</summary>
    public bool? UseSyncMode { get; init; }

    /// <summary>Whether fallbacks are allowed for this job; null uses the options.</summary>
    public bool? AllowFallback { get; init; }

    /// <summary>WaveSpeedAI only: an https URL the provider POSTs the finished prediction to (see <see cref="WebhookVerifier"/>).</summary>
    public Uri? WebhookUrl { get; init; }

    /// <summary>Deadline for this job; null uses <see cref="NanoBananaOptions.Deadline"/>.</summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>The routing requirements derived from this job.</summary>
    public JobRequirements ToRequirements() => new()
    {
        Size = Size,
        AspectRatio = AspectRatio,
        FaceCount = ReferenceImages.Count(r => r.Kind == ReferenceKind.Face),
        ObjectCount = ReferenceImages.Count(r => r.Kind == ReferenceKind.Object),
        ReferenceImageCount = ReferenceImages.Count,
        TypographyCritical = TypographyCritical,
        ComplexComposition = ComplexComposition,
        ImageSearchGrounding = ImageSearchGrounding,
        Stylized = Stylized,
        Priority = Priority,
        MaxCostUsd = MaxCostUsd,
        PinnedTier = PinnedTier,
    };

    /// <summary>Checks the job before anything is sent.</summary>
    /// <exception cref="ArgumentException">A property is invalid; the message names it and the limit.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Prompt))
        {
            throw new ArgumentException($"{nameof(Prompt)} must not be empty or whitespace.", nameof(Prompt));
        }

        if (Prompt.Length > SubmitRequest.MaxPromptLength)
        {
            throw new ArgumentException($"{nameof(Prompt)} has {Prompt.Length} characters; the limit is {SubmitRequest.MaxPromptLength}.", nameof(Prompt));
        }

        ArgumentNullException.ThrowIfNull(ReferenceImages, nameof(ReferenceImages));
        for (var i = 0; i < ReferenceImages.Count; i++)
        {
            var image = ReferenceImages[i] ?? throw new ArgumentException($"{nameof(ReferenceImages)}[{i}] is null.", nameof(ReferenceImages));
            if (image.Url is { } uri && (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
            {
                throw new ArgumentException($"{nameof(ReferenceImages)}[{i}] must be an absolute http(s) URL the service can fetch, or a local image (ReferenceImage.FromFile / FromBytes).", nameof(ReferenceImages));
            }
        }

        if (Deadline is { } d && (d <= TimeSpan.Zero || d > NanoBananaOptions.MaxDeadline))
        {
            throw new ArgumentOutOfRangeException(nameof(Deadline), d, $"{nameof(Deadline)} must be positive and at most {NanoBananaOptions.MaxDeadline.TotalDays:0} days (NanoBananaOptions.MaxDeadline).");
        }

        ToRequirements().Validate();
    }

    /// <summary>Overrides <see cref="RetryOptions.RetrySubmitOnRateLimit"/> for this job's submits (a batch sends false: it handles its 429s itself).</summary>
    internal bool? RetrySubmitOnRateLimit { get; init; }

    internal SubmitRequest ToSubmitRequest(Catalog.ImageModel model, bool syncMode) => new()
    {
        Model = model,
        Prompt = Prompt,
        Images = ReferenceImages.Select(r => r.Url ?? throw new InvalidOperationException("A local reference image reached the submit without being uploaded.")).ToArray(),
        Size = Size,
        AspectRatio = AspectRatio,
        OutputFormat = OutputFormat,
        SyncMode = syncMode,
        Base64Output = Base64Output,
        WebhookUrl = WebhookUrl,
        RetryOnRateLimit = RetrySubmitOnRateLimit,
    };
}
