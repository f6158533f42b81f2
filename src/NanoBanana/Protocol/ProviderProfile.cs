using System.Net;
using System.Text.Json;
using NanoBanana.Catalog;

namespace NanoBanana.Protocol;

/// <summary>How one provider spells routes and fields. Derived from <see cref="ProtocolOptions"/>.</summary>
internal sealed class ProviderProfile
{
    private ProviderProfile(ApiProvider provider, Uri baseUrl, AuthScheme scheme, string halfK)
    {
        Provider = provider;
        BaseUrl = baseUrl;
        AuthScheme = scheme;
        HalfKValue = halfK;
    }

    public ApiProvider Provider { get; }

    public Uri BaseUrl { get; }

    public AuthScheme AuthScheme { get; }

    public string HalfKValue { get; }

    public static ProviderProfile From(ProtocolOptions options) =>
        new(options.Provider, options.EffectiveBaseUrl, options.EffectiveAuthScheme, options.HalfKSizeValue);

    /// <summary>The relative submit route, e.g. <c>google/gemini-3-pro-image-preview/text-to-image</c>.</summary>
    public string SubmitPath(ImageModel model, bool edit) => Provider switch
    {
        ApiProvider.WaveSpeed => $"google/{model.WaveSpeedSlug}/{(edit ? "edit" : "text-to-image")}",
        ApiProvider.GptProtoUnified => "images",
        _ => $"google/{model.Id}/{(edit ? "image-edit" : "text-to-image")}",
    };

    /// <summary>The relative poll route of a prediction.</summary>
    /// <exception cref="ArgumentException">The id is "." or "..": escaped or not, it would name another route (System.Uri removes dot segments, %2E included).</exception>
    public string PollPath(string predictionId)
    {
        CheckPredictionId(predictionId);
        return Provider == ApiProvider.GptProtoUnified
            ? $"tasks/result/{Uri.EscapeDataString(predictionId)}"
            : $"predictions/{Uri.EscapeDataString(predictionId)}/result";
    }

    /// <summary>
    /// The prediction id a poll URL names, when it is this provider's poll route under the base URL
    /// (<c>predictions/{id}/result</c>, or <c>tasks/result/{id}</c> on the unified API); otherwise null. A poll answer
    /// that names no prediction (a relay that passes on only status and outputs) is then read as the answer about it.
    /// </summary>
    public string? PredictionIdIn(Uri pollUrl)
    {
        if (!IsApiOrigin(pollUrl) || !pollUrl.AbsolutePath.StartsWith(BaseUrl.AbsolutePath, StringComparison.Ordinal))
        {
            return null;
        }

        var segments = pollUrl.AbsolutePath[BaseUrl.AbsolutePath.Length..].Split('/');
        var escaped = Provider == ApiProvider.GptProtoUnified
            ? segments is ["tasks", "result", var u] ? u : null
            : segments is ["predictions", var p, "result"] ? p : null;
        var id = string.IsNullOrEmpty(escaped) ? null : Uri.UnescapeDataString(escaped);
        return string.IsNullOrWhiteSpace(id) || id is "." or ".." ? null : id;
    }

    /// <summary>Refuses "." and "..", which no escaping keeps inside the poll route.</summary>
    internal static void CheckPredictionId(string predictionId)
    {
        if (predictionId is "." or "..")
        {
            throw new ArgumentException($"'{predictionId}' cannot be a prediction id: in a request path it would name another route.", nameof(predictionId));
        }
    }

    /// <summary>Why <paramref name="provider"/> takes no webhooks, or null when it does (WaveSpeedAI only).</summary>
    public static string? WebhooksUnsupported(ApiProvider provider) =>
        provider == ApiProvider.WaveSpeed ? null : $"webhooks are documented for WaveSpeedAI only; {provider} has none.";

    /// <summary>
    /// What this provider cannot do with a request, named by property, or null. Checked before anything is sent.
    /// </summary>
    public string? Unsupported(SubmitRequest request)
    {
        if (request.WebhookUrl is not null && WebhooksUnsupported(Provider) is { } why)
        {
            return $"{nameof(SubmitRequest.WebhookUrl)}: {why}";
        }

        if (Provider == ApiProvider.GptProtoUnified && request.SyncMode)
        {
            return $"{nameof(SubmitRequest.SyncMode)}: GPT Proto's unified images API only queues jobs; use Provider GptProto for sync mode.";
        }

        if (Provider == ApiProvider.GptProtoUnified && request.Base64Output)
        {
            return $"{nameof(SubmitRequest.Base64Output)}: GPT Proto's unified images API returns URLs only (unsigned_urls).";
        }

        return null;
    }

    /// <summary>The submit body as UTF-8 JSON.</summary>
    public byte[] SerializeBody(SubmitRequest request) => Provider == ApiProvider.GptProtoUnified
        ? JsonSerializer.SerializeToUtf8Bytes(UnifiedBody(request), NanoBananaJsonContext.Default.UnifiedSubmitBodyDto)
        : JsonSerializer.SerializeToUtf8Bytes(Body(request), NanoBananaJsonContext.Default.SubmitBodyDto);

    private UnifiedSubmitBodyDto UnifiedBody(SubmitRequest request) => new()
    {
        Model = $"google/{request.Model.Id}",
        Prompt = request.Prompt,
        Size = SizeValue(request.Size),
        AspectRatio = request.AspectRatio.ToString(),
        OutputFormat = FormatValue(request.OutputFormat),
        InputReferences = request.IsEdit
            ? request.Images.Select(u => new InputReferenceDto { ImageUrl = new ImageUrlDto { Url = u.AbsoluteUri } }).ToList()
            : null,
    };

    private static string FormatValue(OutputFormat format) => format == OutputFormat.Jpeg ? "jpeg" : "png";

    public string SizeValue(ImageSize size)
    {
        var text = size == ImageSize.HalfK ? HalfKValue : size.ToString();
        return Provider == ApiProvider.WaveSpeed ? text.ToLowerInvariant() : text;
    }

    private SubmitBodyDto Body(SubmitRequest request)
    {
        var size = SizeValue(request.Size);
        return new SubmitBodyDto
        {
            Prompt = request.Prompt,
            Images = request.IsEdit ? request.Images.Select(u => u.AbsoluteUri).ToList() : null,
            Size = Provider == ApiProvider.WaveSpeed ? null : size,
            Resolution = Provider == ApiProvider.WaveSpeed ? size : null,
            AspectRatio = request.AspectRatio.ToString(),
            OutputFormat = FormatValue(request.OutputFormat),
            EnableSyncMode = request.SyncMode ? true : null,
            EnableBase64Output = request.Base64Output ? true : null,
        };
    }

    // How providers word a content-policy refusal of a submit. GPT Proto documents "503 - Content policy violation";
    // WaveSpeedAI's task code 1200 is moderation; OpenAI-compatible relays say "content_policy_violation".
    private static readonly string[] PolicyCodes = ["content_policy_violation", "content_policy", "content_filter", "moderation", "moderation_blocked", "safety", "1200"];
    private static readonly string[] PolicyTexts = ["content policy", "policy violation", "moderation", "content filter", "safety system", "safety filter", "nsfw", "prohibited content", "sensitive content"];

    /// <summary>
    /// Whether an error answer to a submit is a content-policy refusal: a caller error that no retry and no other model
    /// will fix. Only statuses that mean "refused" count (400, 403, 422, 451, and 503, which GPT Proto documents for a
    /// policy violation), and only with a policy code or text; a 500 stays an unknown outcome. Both current profiles
    /// share the rule (WaveSpeedAI's moderation code 1200 arrives inside a failed prediction instead), all three profiles.
    /// </summary>
    public static bool IsContentPolicyRefusal(NanoBananaApiException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.StatusCode is not (HttpStatusCode.BadRequest or HttpStatusCode.Forbidden or HttpStatusCode.UnprocessableEntity
            or HttpStatusCode.UnavailableForLegalReasons or HttpStatusCode.ServiceUnavailable))
        {
            return false;
        }

        if (error.ErrorCode is { } code && PolicyCodes.Contains(code, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        var text = error.ProviderMessage;
        return text is not null && PolicyTexts.Any(t => text.Contains(t, StringComparison.OrdinalIgnoreCase));
    }

    private static readonly string[] UnknownModelTexts =
        ["not found", "unknown", "not supported", "unsupported", "does not exist", "no such", "invalid model", "not available", "deprecated", "retired", "decommission", "shut down"];

    /// <summary>The path of the provider's binary upload for local reference images, or null when none is documented.</summary>
    public string? UploadPath => Provider == ApiProvider.WaveSpeed ? "media/upload/binary" : null;

    /// <summary>
    /// Whether this provider receives the catalog's model id (GPT Proto's routes and body) rather than a name of its
    /// own (WaveSpeedAI's slugs), so that moving to a successor id changes what is sent.
    /// </summary>
    public bool SendsModelId => Provider != ApiProvider.WaveSpeed;

    /// <summary>
    /// Whether a submit refusal says the provider does not know the model id: a 404 on the submit, or a 400 whose
    /// message names the id and says it is unknown, unsupported or retired. Such a refusal is surely not accepted
    /// (nothing billed), so sending the job once more under the successor id cannot pay twice.
    /// </summary>
    public static bool IsUnknownModelRefusal(NanoBananaApiException error, Catalog.ImageModel model)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(model);
        if (error is ContentPolicyException)
        {
            return false;
        }

        if (error.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }

        var text = error.ProviderMessage ?? error.Message;
        return error.StatusCode == HttpStatusCode.BadRequest
            && text.Contains(model.Id, StringComparison.OrdinalIgnoreCase)
            && UnknownModelTexts.Any(t => text.Contains(t, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Whether a URL is on the configured API origin (scheme, host and port), the only place the key may go.</summary>
    public bool IsApiOrigin(Uri? uri) =>
        uri is { IsAbsoluteUri: true }
        && string.Equals(uri.Scheme, BaseUrl.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.IdnHost, BaseUrl.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == BaseUrl.Port;
}
