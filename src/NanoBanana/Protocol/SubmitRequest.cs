using NanoBanana.Catalog;

namespace NanoBanana.Protocol;

/// <summary>One submit on the wire: a concrete model, a prompt, optional input images and output options.</summary>
public sealed record SubmitRequest
{
    /// <summary>The model to run.</summary>
    public required ImageModel Model { get; init; }

    /// <summary>The prompt; required, non-empty.</summary>
    public required string Prompt { get; init; }

    /// <summary>Input / reference image URLs. Non-empty makes this an image edit.</summary>
    public IReadOnlyList<Uri> Images { get; init; } = [];

    /// <summary>Output size.</summary>
    public ImageSize Size { get; init; } = ImageSize.OneK;

    /// <summary>Aspect ratio.</summary>
    public AspectRatio AspectRatio { get; init; } = AspectRatio.Square;

    /// <summary>Output format.</summary>
    public OutputFormat OutputFormat { get; init; } = OutputFormat.Png;

    /// <summary>Ask for the finished prediction in the submit response.</summary>
    public bool SyncMode { get; init; }

    /// <summary>Ask for outputs as base64 instead of URLs.</summary>
    public bool Base64Output { get; init; }

    /// <summary>
    /// WaveSpeedAI only: an https URL the provider POSTs the finished prediction to (verify it with
    /// <see cref="WebhookVerifier"/>). Not combinable with <see cref="Base64Output"/>.
    /// </summary>
    public Uri? WebhookUrl { get; init; }

    /// <summary>Overrides <see cref="RetryOptions.RetrySubmitOnRateLimit"/> for this submit (a batch handles its 429s itself).</summary>
    internal bool? RetryOnRateLimit { get; init; }

    /// <summary>Whether this is an image edit (it has input images).</summary>
    public bool IsEdit => Images.Count > 0;

    /// <summary>The most prompt characters accepted before sending (the services' own limit is not published).</summary>
    public const int MaxPromptLength = 32_000;

    /// <summary>Checks the request against the model's limits before anything is sent.</summary>
    /// <exception cref="ArgumentException">A property breaks a limit; the message names it and the limit.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Model, nameof(Model));
        if (string.IsNullOrWhiteSpace(Prompt))
        {
            throw new ArgumentException($"{nameof(Prompt)} must not be empty or whitespace.", nameof(Prompt));
        }

        if (Prompt.Length > MaxPromptLength)
        {
            throw new ArgumentException($"{nameof(Prompt)} has {Prompt.Length} characters; the limit is {MaxPromptLength}.", nameof(Prompt));
        }

        if (!Model.Supports(Size))
        {
            throw new ArgumentException($"{nameof(Size)} {Size} is not offered by {Model.DisplayName}; it offers {string.Join(", ", Model.Sizes)}.", nameof(Size));
        }

        if (!Model.Supports(AspectRatio))
        {
            throw new ArgumentException($"{nameof(AspectRatio)} {AspectRatio} is not offered by {Model.DisplayName}; it offers {string.Join(", ", Model.AspectRatios)}.", nameof(AspectRatio));
        }

        if (Images.Count > Model.MaxReferenceImages)
        {
            throw new ArgumentException($"{nameof(Images)} has {Images.Count} images; {Model.DisplayName} takes at most {Model.MaxReferenceImages}.", nameof(Images));
        }

        for (var i = 0; i < Images.Count; i++)
        {
            var uri = Images[i];
            if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                throw new ArgumentException($"{nameof(Images)}[{i}] must be an absolute http(s) URL the service can fetch.", nameof(Images));
            }
        }

        if (WebhookUrl is { } hook)
        {
            if (!IsWebhookUrl(hook))
            {
                throw new ArgumentException($"{nameof(WebhookUrl)} must be an absolute https URL (http only on a loopback host, for local tests); got '{hook}'.", nameof(WebhookUrl));
            }

            if (Base64Output)
            {
                throw new ArgumentException($"{nameof(WebhookUrl)} cannot be combined with {nameof(Base64Output)} (the provider rejects it with 400).", nameof(WebhookUrl));
            }
        }

        if (!Enum.IsDefined(OutputFormat))
        {
            throw new ArgumentException($"{nameof(OutputFormat)} must be Png or Jpeg.", nameof(OutputFormat));
        }
    }

    /// <summary>An absolute https URL, or http on a loopback host (a local receiver in tests).</summary>
    internal static bool IsWebhookUrl(Uri url) =>
        url.IsAbsoluteUri && (url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback));
}
