using NanoBanana.Protocol;

namespace NanoBanana;

/// <summary>
/// What the protocol layer needs: which provider, where, how to authenticate, transport retries and response limits.
/// <see cref="NanoBananaOptions"/> extends it with the client's own settings (catalog, polling, deadline, fallbacks), so
/// the configuration keys stay where they are (<c>NanoBanana:ApiKey</c>, <c>NanoBanana:Retry</c>, …).
/// </summary>
public class ProtocolOptions
{
    /// <summary>The environment variable read when <see cref="ApiKey"/> is not set: <c>NANOBANANA_API_KEY</c>.</summary>
    public const string ApiKeyEnvironmentVariable = "NANOBANANA_API_KEY";

    /// <summary>
    /// The API key. Sent only to the host of <see cref="BaseUrl"/>; never logged. Surrounding whitespace (a key read
    /// from a file ends in a line break) is ignored; any other character outside printable ASCII is refused.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>The provider; default GPT Proto.</summary>
    public ApiProvider Provider { get; set; } = ApiProvider.GptProto;

    /// <summary>The API base URL ending in <c>/api/v3/</c>; null uses the provider's. Plain http is allowed only for loopback.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>The auth header scheme; null uses the provider's default (GPT Proto: raw key; WaveSpeed and GptProtoUnified: Bearer).</summary>
    public AuthScheme? AuthScheme { get; set; }

    /// <summary>The wire value for 0.5K output (unknown on GPT Proto; Google spells it "512").</summary>
    public string HalfKSizeValue { get; set; } = "512";

    /// <summary>
    /// Other words for the statuses, each mapped to one of the SDK's: <c>created</c>, <c>processing</c>, <c>completed</c>,
    /// <c>failed</c>, <c>cancelled</c>, <c>timeout</c> or <c>expired</c>. For a service or relay that says, for example,
    /// <c>succeeded</c> for completed: <c>"NanoBanana:StatusAliases": { "succeeded": "completed", "error": "failed" }</c>.
    /// Case is ignored. A status the SDK does not know is read as "still running" (the protocol's rule), logged as a
    /// warning the first time a client meets it, and named in the timeout of a wait that ends on it: map it here and
    /// resume the prediction by id.
    /// </summary>
    public Dictionary<string, string> StatusAliases { get; private protected set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Transport retries and timeouts.</summary>
    public RetryOptions Retry { get; private protected set; } = new();

    /// <summary>Bounds on what the service may send: body sizes, image sizes, download time, which output URLs are fetched.</summary>
    public LimitOptions Limits { get; private protected set; } = new();

    /// <summary>
    /// Where messages, at startup (<see cref="Validate"/>) and at run time, say these settings live: the path of the
    /// configuration section the client was bound to (<c>AddNanoBanana</c> sets it, so a client bound to
    /// <c>Images:Print</c> is told of <c>Images:Print:Limits:MaxImageBytes</c>), <c>NanoBanana</c> otherwise. Not a setting itself.
    /// </summary>
    internal string SettingsPath { get; set; } = DefaultSettingsPath;

    /// <summary>The section name of the settings when nothing else is known: <c>NanoBanana</c>.</summary>
    internal const string DefaultSettingsPath = "NanoBanana";

    /// <summary>The effective base URL: the provider's default, or <see cref="BaseUrl"/> ending in a slash.</summary>
    public Uri EffectiveBaseUrl => BaseUrl is null
        ? new Uri(Provider == ApiProvider.WaveSpeed ? "https://api.wavespeed.ai/api/v3/" : "https://gptproto.com/api/v3/")
        : !BaseUrl.IsAbsoluteUri || BaseUrl.AbsoluteUri.EndsWith('/') ? BaseUrl : new Uri(BaseUrl.AbsoluteUri + "/");

    private protected string ShownBaseUrl => Shown(EffectiveBaseUrl);

    /// <summary>
    /// Why a key cannot go into a request header, or null. A line break would end the header and start another (the
    /// key's tail became a header of its own); a non-ASCII character fails the request after the SDK has committed to
    /// it. The key itself is never shown.
    /// </summary>
    internal static string? UnsendableKey(string key) =>
        key.AsSpan().IndexOfAnyExceptInRange(' ', '~') is var bad and >= 0
            ? $"has a character a request header cannot carry at position {bad + 1} (a line break, a control character or a non-ASCII character); copy the key again."
            : null;

    /// <summary>A base URL as messages and <c>ToString</c> show it: scheme, host, port and path, never user info or a query.</summary>
    internal static string Shown(Uri url) => url.IsAbsoluteUri
        ? url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
        : "(not an absolute URL)";

    /// <summary>The effective auth scheme.</summary>
    public AuthScheme EffectiveAuthScheme => AuthScheme ?? (Provider == ApiProvider.GptProto ? NanoBanana.AuthScheme.Raw : NanoBanana.AuthScheme.Bearer);

    /// <summary>The API key from <see cref="ApiKey"/> or <c>NANOBANANA_API_KEY</c>, without surrounding whitespace.</summary>
    public string? EffectiveApiKey => (string.IsNullOrWhiteSpace(ApiKey) ? Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable) : ApiKey)?.Trim();

    /// <summary>Checks the options and returns every problem found, naming the configuration key.</summary>
    public virtual IReadOnlyList<string> Validate() => [.. ValidateProtocol(SettingsPath)];

    /// <summary>A description without the API key.</summary>
    public override string ToString() => $"{GetType().Name} {{ {Describe()} }}";

    /// <summary>The settings for <see cref="ToString"/>, the key masked; a derived class appends its own.</summary>
    private protected virtual string Describe() =>
        $"Provider = {Provider}, BaseUrl = {ShownBaseUrl}, AuthScheme = {EffectiveAuthScheme}, ApiKey = {(string.IsNullOrEmpty(EffectiveApiKey) ? "(none)" : "***")}";

    /// <summary>The protocol settings' problems, each naming its key under <paramref name="section"/>.</summary>
    private protected IEnumerable<string> ValidateProtocol(string section)
    {
        var baseUrl = EffectiveBaseUrl;
        if (!baseUrl.IsAbsoluteUri)
        {
            yield return $"{section}:BaseUrl is not an absolute URL; give the API root with its scheme and host, e.g. https://gptproto.com/api/v3/.";
        }
        else if (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp)
        {
            yield return $"{section}:BaseUrl must be an http(s) URL (got the scheme '{baseUrl.Scheme}').";
        }
        else if (baseUrl.Scheme == Uri.UriSchemeHttp && !baseUrl.IsLoopback)
        {
            yield return $"{section}:BaseUrl '{baseUrl.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped)}' uses plain http; http is allowed only for loopback (the emulator). Use https.";
        }

        if (!Enum.IsDefined(Provider))
        {
            yield return $"{section}:Provider must be GptProto, GptProtoUnified or WaveSpeed.";
        }

        if (string.IsNullOrWhiteSpace(EffectiveApiKey))
        {
            yield return $"{section}:ApiKey is not set (nor is the {ApiKeyEnvironmentVariable} environment variable).";
        }
        else if (UnsendableKey(EffectiveApiKey) is { } problem)
        {
            var source = string.IsNullOrWhiteSpace(ApiKey) ? $" (from the {ApiKeyEnvironmentVariable} environment variable)" : "";
            yield return $"{section}:ApiKey{source} {problem}";
        }

        if (string.IsNullOrWhiteSpace(HalfKSizeValue))
        {
            yield return $"{section}:HalfKSizeValue must not be empty.";
        }

        foreach (var error in Retry.Validate($"{section}:Retry").Concat(Limits.Validate($"{section}:Limits")).Concat(StatusVocabulary.Validate(StatusAliases, $"{section}:StatusAliases")))
        {
            yield return error;
        }
    }
}
