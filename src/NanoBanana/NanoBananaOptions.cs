using NanoBanana.Catalog;
using NanoBanana.Polling;

namespace NanoBanana;

/// <summary>Which /api/v3 service the client talks to.</summary>
public enum ApiProvider
{
    /// <summary>GPT Proto (<c>https://gptproto.com/api/v3/</c>), the default.</summary>
    GptProto,

    /// <summary>WaveSpeedAI (<c>https://api.wavespeed.ai/api/v3/</c>).</summary>
    WaveSpeed,

    /// <summary>
    /// GPT Proto's unified media API (<c>https://gptproto.com/api/v3/</c>): one submit route, <c>POST images</c> with
    /// the model in the body (202 and a polling URL), polled at <c>tasks/result/{id}</c>, outputs in
    /// <c>unsigned_urls</c>, Bearer auth. No sync mode, base64 output or webhooks.
    /// </summary>
    GptProtoUnified,
}

/// <summary>How the API key is written into the <c>Authorization</c> header.</summary>
public enum AuthScheme
{
    /// <summary>The raw key: <c>Authorization: sk-…</c> (GPT Proto's examples).</summary>
    Raw,

    /// <summary><c>Authorization: Bearer sk-…</c> (WaveSpeedAI, GPT Proto's auth page).</summary>
    Bearer,
}

/// <summary>Everything the client needs to know. Bind from the <c>NanoBanana</c> configuration section or set in code.</summary>
public sealed class NanoBananaOptions
{
    /// <summary>The configuration section name, <c>NanoBanana</c>.</summary>
    public const string SectionName = "NanoBanana";

    /// <summary>The environment variable read when <see cref="ApiKey"/> is not set: <c>NANOBANANA_API_KEY</c>.</summary>
    public const string ApiKeyEnvironmentVariable = "NANOBANANA_API_KEY";

    /// <summary>The API key. Sent only to the host of <see cref="BaseUrl"/>; never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The provider; default GPT Proto.</summary>
    public ApiProvider Provider { get; set; } = ApiProvider.GptProto;

    /// <summary>The API base URL ending in <c>/api/v3/</c>; null uses the provider's. Plain http is allowed only for loopback.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>The auth header scheme; null uses the provider's default (GPT Proto: raw key; WaveSpeed and GptProtoUnified: Bearer).</summary>
    public AuthScheme? AuthScheme { get; set; }

    /// <summary>The wire value for 0.5K output (unknown on GPT Proto; Google spells it "512").</summary>
    public string HalfKSizeValue { get; set; } = "512";

    /// <summary>Catalog overrides: model ids, prices, limits, latencies.</summary>
    public ModelCatalogOptions Catalog { get; } = new();

    /// <summary>How to wait for predictions.</summary>
    public PollingOptions Polling { get; } = new();

    /// <summary>Transport retries and timeouts.</summary>
    public RetryOptions Retry { get; } = new();

    /// <summary>Bounds on what the service may send: body sizes, image sizes, download time, which output URLs are fetched.</summary>
    public LimitOptions Limits { get; } = new();

    /// <summary>
    /// Uploads local reference images (<see cref="ReferenceImage.FromFile"/>, <see cref="ReferenceImage.FromBytes"/>)
    /// before the submit. Null (the default): WaveSpeedAI's own upload endpoint with <see cref="ApiProvider.WaveSpeed"/>;
    /// with GPT Proto, which documents no upload, a job with a local image is refused before anything is sent. With
    /// dependency injection, an <see cref="IReferenceImageUploader"/> registered in the container is used. Not bound
    /// from configuration.
    /// </summary>
    public IReferenceImageUploader? ReferenceImageUploader { get; set; }

    /// <summary>Ask the service to answer the submit with the finished image (sync mode). On a sync timeout the SDK polls the same id.</summary>
    public bool UseSyncMode { get; set; }

    /// <summary>How long one job may take from submit to result before <see cref="PredictionTimeoutException"/>; default 10 minutes.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>When a prediction fails for a service reason (not moderation, not bad input), try the next model of the fallback chain. Failed runs are refunded. Default true.</summary>
    public bool FallbackOnServiceError { get; set; } = true;

    /// <summary>When a submit is surely not accepted (503, or 429 after retries), try the next model of the fallback chain. Default true.</summary>
    public bool FallbackWhenNotAccepted { get; set; } = true;

    /// <summary>
    /// When a prediction completes without outputs, try the next model. Off by default: a completed run may well be
    /// billed, so moving on could pay twice for one job; the failure is reported with the prediction id instead.
    /// </summary>
    public bool FallbackOnEmptyOutput { get; set; }

    /// <summary>The effective base URL.</summary>
    public Uri EffectiveBaseUrl => BaseUrl is null
        ? new Uri(Provider == ApiProvider.WaveSpeed ? "https://api.wavespeed.ai/api/v3/" : "https://gptproto.com/api/v3/")
        : BaseUrl.AbsoluteUri.EndsWith('/') ? BaseUrl : new Uri(BaseUrl.AbsoluteUri + "/");

    /// <summary>The effective auth scheme.</summary>
    public AuthScheme EffectiveAuthScheme => AuthScheme ?? (Provider == ApiProvider.GptProto ? NanoBanana.AuthScheme.Raw : NanoBanana.AuthScheme.Bearer);

    /// <summary>The API key from <see cref="ApiKey"/> or <c>NANOBANANA_API_KEY</c>.</summary>
    public string? EffectiveApiKey => string.IsNullOrWhiteSpace(ApiKey) ? Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable) : ApiKey;

    /// <summary>Checks the options and returns every problem found, naming the key.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var baseUrl = EffectiveBaseUrl;
        if (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"{SectionName}:BaseUrl must be an absolute http(s) URL.");
        }
        else if (baseUrl.Scheme == Uri.UriSchemeHttp && !baseUrl.IsLoopback)
        {
            errors.Add($"{SectionName}:BaseUrl '{baseUrl.GetLeftPart(UriPartial.Authority)}' uses plain http; http is allowed only for loopback (the emulator). Use https.");
        }

        if (!Enum.IsDefined(Provider))
        {
            errors.Add($"{SectionName}:Provider must be GptProto, GptProtoUnified or WaveSpeed.");
        }

        if (Provider == ApiProvider.GptProtoUnified && UseSyncMode)
        {
            errors.Add($"{SectionName}:UseSyncMode is not available with Provider GptProtoUnified (its images API only queues jobs); turn it off or use Provider GptProto.");
        }

        if (string.IsNullOrWhiteSpace(EffectiveApiKey))
        {
            errors.Add($"{SectionName}:ApiKey is not set (nor is the {ApiKeyEnvironmentVariable} environment variable).");
        }

        if (Deadline <= TimeSpan.Zero)
        {
            errors.Add($"{SectionName}:Deadline must be positive (got {Deadline}).");
        }

        if (string.IsNullOrWhiteSpace(HalfKSizeValue))
        {
            errors.Add($"{SectionName}:HalfKSizeValue must not be empty.");
        }

        errors.AddRange(Polling.Validate($"{SectionName}:Polling"));
        errors.AddRange(Retry.Validate($"{SectionName}:Retry"));
        errors.AddRange(Limits.Validate($"{SectionName}:Limits"));
        try
        {
            ModelCatalog.Create(Catalog);
        }
        catch (ArgumentException ex)
        {
            errors.Add($"{SectionName}:{ex.Message}");
        }

        return errors;
    }

    /// <summary>A description without the API key.</summary>
    public override string ToString() =>
        $"NanoBananaOptions {{ Provider = {Provider}, BaseUrl = {EffectiveBaseUrl}, AuthScheme = {EffectiveAuthScheme}, ApiKey = {(string.IsNullOrEmpty(EffectiveApiKey) ? "(none)" : "***")}, UseSyncMode = {UseSyncMode}, Deadline = {Deadline} }}";
}

/// <summary>Transport retries and timeouts for single HTTP exchanges.</summary>
public sealed class RetryOptions
{
    /// <summary>Retries of an idempotent request (polls, downloads) on 408/429/5xx, dropped connections and per-attempt timeouts. Default 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>The first backoff delay; doubles each retry, with jitter. Default 500 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The largest backoff delay. Default 10 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most a Retry-After header may make the client wait (a floor, capped here). Default 30 s.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Timeout of one poll attempt, from sending to the last byte of the body (a body that drips slower is cut off and
    /// retried), and of a download's response headers. Default 30 s.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of a submit (without sync mode), body included. After it the outcome is unknown and the submit is not repeated. Default 60 s.</summary>
    public TimeSpan SubmitTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of a sync-mode submit. Default 3 minutes.</summary>
    public TimeSpan SyncSubmitTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Retry a submit whose connection could not be established (nothing was sent, nothing billed). Default true.</summary>
    public bool RetrySubmitWhenNotSent { get; set; } = true;

    /// <summary>Retry a submit answered 429 (not accepted, not billed). Off by default: opt in.</summary>
    public bool RetrySubmitOnRateLimit { get; set; }

    /// <summary>Retries of a submit in the two safe cases above. Default 3.</summary>
    public int MaxSubmitRetries { get; set; } = 3;

    internal IEnumerable<string> Validate(string path)
    {
        if (MaxRetries < 0)
        {
            yield return $"{path}:MaxRetries must be zero or more.";
        }

        if (MaxSubmitRetries < 0)
        {
            yield return $"{path}:MaxSubmitRetries must be zero or more.";
        }

        if (BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            yield return $"{path}: need 0 < BaseDelay <= MaxDelay.";
        }

        if (MaxRetryAfter < TimeSpan.Zero)
        {
            yield return $"{path}:MaxRetryAfter must not be negative.";
        }

        if (AttemptTimeout <= TimeSpan.Zero || SubmitTimeout <= TimeSpan.Zero || SyncSubmitTimeout <= TimeSpan.Zero)
        {
            yield return $"{path}: AttemptTimeout, SubmitTimeout and SyncSubmitTimeout must be positive.";
        }
    }
}
