using System.Net;
using System.Net.Http.Headers;
using Polly.Timeout;

namespace NanoBanana.Protocol;

/// <summary>
/// The raw /api/v3 protocol: submit, get a prediction, download outputs. One call, one exchange (plus the
/// transport retries of the SDK's resilience handler; see <see cref="NanoBananaClient.CreateHttpClient"/>). Thread-safe; reuse one instance.
/// The facade <see cref="NanoBananaClient"/> adds routing, waiting and fallbacks on top.
/// </summary>
public class NanoBananaProtocolClient
{
    private const int MaxErrorBodyBytes = 64 * 1024;
    private readonly HttpClient _http;
    private readonly ProviderProfile _profile;
    private volatile string? _apiKey; // replaced whole by UpdateApiKey: a request reads it once
    private volatile SecretRedactor _redactor;
    private readonly object _keyGate = new(); // a key change sets the redactor and the key together
    private readonly RetryOptions _retry;
    private readonly LimitOptions _limits;
    private readonly string _settingsPath;
    private readonly OutputUrlPolicy _outputPolicy;

    /// <summary>Creates the protocol client over an <see cref="HttpClient"/> (which should include the resilience handler).</summary>
    public NanoBananaProtocolClient(HttpClient httpClient, ProtocolOptions options)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _http = httpClient;
        _profile = ProviderProfile.From(options);
        _apiKey = options.EffectiveApiKey;
        if (_apiKey is not null && ProtocolOptions.UnsendableKey(_apiKey) is { } problem)
        {
            throw new ArgumentException($"The API key {problem}", nameof(options));
        }

        _retry = options.Retry;
        _limits = options.Limits;
        _settingsPath = options.SettingsPath;
        _redactor = new SecretRedactor(_apiKey);
        _outputPolicy = new OutputUrlPolicy(options.Limits.AllowedOutputHosts, _profile.BaseUrl);
        Statuses = new StatusVocabulary(options.StatusAliases);
    }

    /// <summary>For mocking.</summary>
    protected NanoBananaProtocolClient()
    {
        _http = null!;
        _profile = null!;
        _retry = new RetryOptions();
        _limits = new LimitOptions();
        _settingsPath = ProtocolOptions.DefaultSettingsPath;
        _redactor = SecretRedactor.None;
        _outputPolicy = new OutputUrlPolicy([], new Uri("https://localhost/"));
        Statuses = StatusVocabulary.Default;
    }

    /// <summary>
    /// A setting as messages name it, under the section the client's options came from: <c>Limits:MaxImageBytes</c> is
    /// <c>NanoBanana:Limits:MaxImageBytes</c> for the default registration, <c>Images:Print:Limits:MaxImageBytes</c> for a
    /// client bound to <c>Images:Print</c>.
    /// </summary>
    internal string Setting(string key) => _settingsPath + ":" + key;

    /// <summary>The redactor every text from the service passes through: it hides the key, and every key the client had before.</summary>
    internal SecretRedactor Redactor => _redactor;

    /// <summary>
    /// Replaces the API key for every request from now on (a key rotated in the provider's console, say); requests
    /// already sent keep the key they left with. The old key stays hidden in messages, since an answer to such a request
    /// may echo it.
    /// </summary>
    /// <param name="apiKey">The new key: not empty, and sendable in a header.</param>
    /// <exception cref="ArgumentException">The key is empty or cannot be sent in a header; the client keeps its key.</exception>
    public virtual void UpdateApiKey(string apiKey) => ReplaceApiKey(apiKey);

    /// <summary>As <see cref="UpdateApiKey"/>; false when the key is the one the client sends already.</summary>
    internal bool ReplaceApiKey(string? apiKey)
    {
        var key = apiKey?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            throw new ArgumentException("The API key must not be empty; the client keeps its key.", nameof(apiKey));
        }

        if (ProtocolOptions.UnsendableKey(key) is { } problem)
        {
            throw new ArgumentException($"The API key {problem}; the client keeps its key.", nameof(apiKey));
        }

        lock (_keyGate)
        {
            if (string.Equals(key, _apiKey, StringComparison.Ordinal))
            {
                return false;
            }

            _redactor = _redactor.With(key); // hidden before it can be sent, so no answer can show it unredacted
            _apiKey = key;
            return true;
        }
    }

    /// <summary>How statuses are read: the SDK's words and the user's aliases for them.</summary>
    internal StatusVocabulary Statuses { get; }

    /// <summary>The limits in force.</summary>
    internal LimitOptions Limits => _limits;

    /// <summary>The API base URL.</summary>
    public Uri BaseUrl => _profile.BaseUrl;

    /// <summary>Whether the provider receives the catalog's model id (so a successor id changes what is sent).</summary>
    internal bool SendsModelId => _profile?.SendsModelId ?? true;

    /// <summary>The provider.</summary>
    public ApiProvider Provider => _profile.Provider;

    /// <summary>
    /// Submits a job. Validates first: an invalid request throws <see cref="ArgumentException"/> and sends nothing.
    /// </summary>
    /// <returns>The prediction as accepted (or, in sync mode, as finished or still processing after a sync timeout).</returns>
    /// <exception cref="NanoBananaApiException">The service answered with an error: the job was not accepted.</exception>
    /// <exception cref="SubmitOutcomeUnknownException">The request may have reached the service (timeout, dropped connection, 500/502/504); it was not repeated.</exception>
    public virtual async Task<Prediction> SubmitAsync(SubmitRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (_profile.Unsupported(request) is { } unsupported)
        {
            throw new ArgumentException(unsupported, nameof(request));
        }

        // Messages name the route, not the webhook query: the caller's webhook URL may carry a token of theirs.
        var path = _profile.SubmitPath(request.Model, request.IsEdit);
        var query = request.WebhookUrl is { } hook ? "?webhook=" + Uri.EscapeDataString(hook.AbsoluteUri) : "";
        var body = _profile.SerializeBody(request);
        var content = new SubmitContent(body);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_profile.BaseUrl, path + query)) { Content = content };
        message.Options.Set(SubmitContent.RequestOption, content);
        var timeout = request.SyncMode ? _retry.SyncSubmitTimeout : _retry.SubmitTimeout;
        if (request.SyncMode)
        {
            message.Options.Set(NanoBananaResilienceHandler.AttemptTimeoutOption, timeout);
        }

        if (request.RetryOnRateLimit is { } retryOnRateLimit)
        {
            message.Options.Set(NanoBananaResilienceHandler.RetryOnRateLimitOption, retryOnRateLimit);
        }

        var limit = request.SyncMode && request.Base64Output ? _limits.MaxInlineResponseBytes : _limits.MaxJsonBytes;
        message.Options.Set(NanoBananaResilienceHandler.ResponseLimitOption, limit);
        var received = new BoundedBody.ReceivedPart();
        message.Options.Set(NanoBananaResilienceHandler.ReceivedPartOption, received);
        Authorize(message);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (NanoBananaResilienceHandler.SurelyNotSent(ex))
        {
            throw new NanoBananaApiException($"Submit to {path} failed: the service at {ShownBaseUrl} could not be reached ({ex.HttpRequestError}). Nothing was sent, nothing billed.", ex)
            {
                ErrorCode = NanoBananaErrorCodes.ConnectionFailed,
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !content.SendingStarted)
        {
            // Cancelled before a byte of the body left: nothing can have been accepted.
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or IOException or OperationCanceledException or BoundedBody.TooLargeException)
        {
            var what = ex switch
            {
                _ when SubmitContent.RepeatRefusedException.Within(ex) => RepeatRefused,
                OperationCanceledException when cancellationToken.IsCancellationRequested => "the caller cancelled after the request was sent",
                TimeoutRejectedException or OperationCanceledException { InnerException: TimeoutException } => "the submit timed out",
                OperationCanceledException => "the exchange was cancelled after the request was sent, not by the caller's token (an HttpClient disposed mid-exchange, for example)",
                BoundedBody.TooLargeException big => $"the answer is larger than {big.Limit} bytes ({Setting("Limits")})",
                _ => $"the connection failed mid-exchange ({ex.Message})",
            };
            var named = WireParser.SalvageSubmitId(received.Bytes); // what arrived before the body read failed, if it got that far
            return AcceptedInPart(request, named, what, cancellationToken) ?? throw OutcomeUnknown(request, path, what, ex, named);
        }
        catch (Exception ex) when (content.SendingStarted)
        {
            // Anything else once the body began to leave (a handler of the caller's that fails on the answer or wraps a
            // refused repeat, an HttpClient disposed mid-exchange): the service may have accepted the job.
            throw OutcomeUnknown(request, path, SubmitContent.RepeatRefusedException.Within(ex) ? RepeatRefused
                : $"the exchange failed after the request was sent ({ex.GetType().Name}: {Diagnostics.SafeText.Printable(ex.Message)})", ex);
        }

        using (response)
        {
            if (Redirected(response, message.RequestUri!) is { } redirect)
            {
                throw redirect("Submit to " + path);
            }

            if (response.IsSuccessStatusCode)
            {
                byte[]? bytes = null;
                try
                {
                    bytes = await ReadBodyAsync(response.Content, limit, timeout, cancellationToken, received).ConfigureAwait(false);
                    return WireParser.ParsePrediction(bytes, response.StatusCode, Redactor, isSubmit: true, operation: $"Submit to {path}", baseUrl: _profile.BaseUrl, statuses: Statuses);
                }
                catch (NanoBananaApiException envelopeError) when (envelopeError is not MalformedResponseException)
                {
                    // An error inside a 2xx envelope: judged like the same status on the wire.
                    throw SubmitRefused(request, path, envelopeError);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or MalformedResponseException or OperationCanceledException or BoundedBody.TooLargeException)
                {
                    var what = ex switch
                    {
                        OperationCanceledException when cancellationToken.IsCancellationRequested => "the caller cancelled while the answer was being read",
                        OperationCanceledException => "the answer's body timed out",
                        BoundedBody.TooLargeException big => $"the answer is larger than {big.Limit} bytes ({Setting("Limits")})",
                        _ => $"the response could not be read ({ex.Message})",
                    };
                    var named = WireParser.SalvageSubmitId(bytes ?? received.Bytes);
                    return AcceptedInPart(request, named, what, cancellationToken) ?? throw OutcomeUnknown(request, path, what, ex, named);
                }
            }

            var error = await ReadErrorAsync(response, null, $"Submit to {path}", cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.GatewayTimeout && request.SyncMode && error.PredictionId is { } id)
            {
                // A gateway 504 in sync mode with a known id: the job runs and is billed; keep polling it.
                return new Prediction { Id = id, Status = PredictionStatus.Processing, Error = "Sync mode timed out (gateway 504)", ErrorCode = 5004, Model = request.Model.Id };
            }

            throw SubmitRefused(request, path, error);
        }
    }

    /// <summary>Whether the provider documents an upload endpoint for local reference images (WaveSpeedAI).</summary>
    public bool SupportsUpload => _profile?.UploadPath is not null;

    /// <summary>
    /// Uploads an image to the provider's binary upload endpoint (WaveSpeedAI: <c>POST media/upload/binary</c>, one
    /// multipart part <c>file</c>) and returns the <c>download_url</c> it answers, for use as a reference image. An upload
    /// costs nothing, so it is retried like a poll on transient failures.
    /// </summary>
    /// <param name="content">The encoded image.</param>
    /// <param name="fileName">The file name to upload it as.</param>
    /// <param name="mediaType">Its media type ("image/png").</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <exception cref="NotSupportedException">The provider documents no upload (<see cref="SupportsUpload"/> is false).</exception>
    /// <exception cref="NanoBananaApiException">The upload failed or was refused (<see cref="NanoBananaErrorCodes.UploadFailed"/>), or the answer carries no usable URL.</exception>
    public virtual async Task<Uri> UploadAsync(ReadOnlyMemory<byte> content, string fileName, string mediaType, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        ArgumentException.ThrowIfNullOrWhiteSpace(mediaType);
        var path = _profile.UploadPath ?? throw new NotSupportedException($"{_profile.Provider} documents no upload endpoint for local images.");
        var operation = $"Uploading {fileName}";
        using var form = new MultipartFormDataContent();
        var file = new ReadOnlyMemoryContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        form.Add(file, "file", HeaderSafeFileName(fileName));
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_profile.BaseUrl, path)) { Content = form };
        message.Options.Set(NanoBananaResilienceHandler.RepeatableOption, true);
        message.Options.Set(NanoBananaResilienceHandler.ResponseLimitOption, _limits.MaxJsonBytes);
        Authorize(message);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw UploadFailed($"{operation} failed after its retries ({ex.Message}). Nothing was submitted, nothing billed.", null, ex);
        }

        using (response)
        {
            if (Redirected(response, message.RequestUri!) is { } redirect)
            {
                throw redirect(operation);
            }

            if (!response.IsSuccessStatusCode)
            {
                var error = await ReadErrorAsync(response, null, operation, cancellationToken).ConfigureAwait(false);
                throw UploadFailed($"{operation} was refused: {error.Message} Nothing was submitted, nothing billed.", error, error);
            }

            byte[] body;
            try
            {
                body = await ReadBodyAsync(response.Content, _limits.MaxJsonBytes, _retry.AttemptTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or BoundedBody.TooLargeException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw UploadFailed($"{operation}: the answer could not be read ({ex.Message}).", null, ex);
            }

            var url = WireParser.ParseUploadUrl(body, Redactor, operation);
            if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && !(url.Scheme == Uri.UriSchemeHttp && url.IsLoopback)))
            {
                throw new MalformedResponseException($"{operation}: the answer's download_url {url.GetLeftPart(UriPartial.Path)} is not an https URL.")
                {
                    ErrorCode = NanoBananaErrorCodes.MalformedResponse,
                };
            }

            return url;
        }
    }

    private static NanoBananaApiException UploadFailed(string message, NanoBananaApiException? refusal, Exception inner) => new(message, inner)
    {
        ErrorCode = NanoBananaErrorCodes.UploadFailed,
        StatusCode = refusal?.StatusCode,
        ProviderMessage = refusal?.ProviderMessage,
        RetryAfter = refusal?.RetryAfter,
        RawBodyExcerpt = refusal?.RawBodyExcerpt,
    };

    // The name only labels the upload: a quote, a backslash or a control character (which .NET's header parser refuses
    // with its own FormatException) becomes '_', and a long name keeps its last 100 characters (the extension).
    private static string HeaderSafeFileName(string name)
    {
        var safe = string.Create(name.Length, name, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = source[i] is < ' ' or '\x7f' or '"' or '\\' ? '_' : source[i];
            }
        });
        return safe.Length <= 100 ? safe : safe[^100..];
    }

    // The configured base URL as a message may show it: scheme, host, port and path, never user info or a query.
    private string ShownBaseUrl => ProtocolOptions.Shown(_profile.BaseUrl);

    // What an error answer to a submit means: a route the service does not have (404: nothing accepted), a
    // content-policy refusal (a caller error, never retried elsewhere), an unknown outcome (500/502/504 after the request
    // arrived: never repeated), or a plain refusal.
    private NanoBananaException SubmitRefused(SubmitRequest request, string path, NanoBananaApiException error)
    {
        if (error.StatusCode == HttpStatusCode.NotFound)
        {
            // A route the service does not have: a base URL that is not the API root, or a model id the provider does not
            // know (the per-model routes name it). Either way nothing was accepted. Said in the message, because a bare
            // "404 Not Found" sends people looking in the wrong place.
            return NanoBananaApiException.Restated(
                $"{error.Message} The service has no such route, so nothing was accepted or billed: check that the base URL ({ShownBaseUrl}) is the provider's " +
                $"API root, ending in /api/v3/, and that the provider knows model id {request.Model.Id} (the catalog's ids can be changed in configuration).",
                error);
        }

        if (ProviderProfile.IsContentPolicyRefusal(error))
        {
            return new ContentPolicyException(
                $"The provider refused the prompt under its content policy ({request.Model.Id}, HTTP {(int?)error.StatusCode}{(error.ErrorCode is null ? "" : $" [{error.ErrorCode}]")}): " +
                $"{error.ProviderMessage ?? "no reason given"}. Nothing was accepted or billed; the job was not retried and not sent to another model. Change the prompt or the reference images.",
                error)
            {
                ModelId = request.Model.Id,
            };
        }

        if (SubmitStatus.OutcomeUnknown(error.StatusCode))
        {
            // 500, 502, 504, and a gateway's 520 or 524 (Cloudflare's: the service got the request and took longer than
            // the gateway's 100 s, as a sync-mode wait on a long job does), or any other 5xx but 503: the job may exist.
            return OutcomeUnknown(request, path, $"the service answered {(int)error.StatusCode!.Value} after receiving the request", error);
        }

        if (SubmitStatus.ServiceNeverReached(error.StatusCode))
        {
            return NanoBananaApiException.Restated(
                $"{error.Message} A gateway in front of the service could not reach it, so nothing was accepted or billed.", error);
        }

        return error;
    }

    /// <summary>Gets a prediction by id (<c>GET predictions/{id}/result</c> on the configured host).</summary>
    /// <exception cref="NanoBananaApiException">The service answered with an error after transport retries.</exception>
    /// <exception cref="MalformedResponseException">The body could not be read.</exception>
    /// <exception cref="ResponseLimitExceededException">The body is larger than the limit for an answer that may carry an inline image.</exception>
    public virtual Task<Prediction> GetPredictionAsync(string predictionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predictionId);
        return GetCoreAsync(new Uri(_profile.BaseUrl, _profile.PollPath(predictionId)), predictionId, expectInline: true, cancellationToken);
    }

    /// <summary>
    /// Gets a prediction from the poll URL the service returned. A URL on any host other than the configured API host
    /// is refused (the key is never sent elsewhere and the SDK does not follow foreign poll URLs). When the URL is the
    /// provider's poll route, the prediction id it names is used for an answer that names none, and in errors.
    /// </summary>
    /// <exception cref="NanoBananaException">The URL is not on the configured API host.</exception>
    public virtual Task<Prediction> GetPredictionAsync(Uri pollUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pollUrl);
        if (!_profile.IsApiOrigin(pollUrl))
        {
            throw new NanoBananaException($"Refusing to poll {pollUrl.GetLeftPart(UriPartial.Authority)}: it is not the configured API host {_profile.BaseUrl.GetLeftPart(UriPartial.Authority)}. Poll by prediction id instead.");
        }

        // The id the URL names, when it is the provider's poll route: an answer that names no prediction is about it,
        // and an error carries it.
        return GetCoreAsync(pollUrl, _profile.PredictionIdIn(pollUrl), expectInline: true, cancellationToken);
    }

    /// <summary>Polls a known prediction (errors carry the id), on its poll URL when that is on the API host.</summary>
    /// <param name="pollUrl">The service's poll URL, or null to poll by id.</param>
    /// <param name="predictionId">The id.</param>
    /// <param name="expectInline">Whether the answer may carry an inline (base64) image, which raises the body limit.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <param name="attempts">Marked at each transport attempt (when the SDK's resilience handler is in the pipeline), or null.</param>
    internal Task<Prediction> GetPredictionAsync(Uri? pollUrl, string predictionId, bool expectInline, CancellationToken cancellationToken, AttemptClock? attempts = null) =>
        GetCoreAsync(pollUrl is not null && IsApiHost(pollUrl) ? pollUrl : new Uri(_profile.BaseUrl, _profile.PollPath(predictionId)), predictionId, expectInline, cancellationToken, attempts);

    /// <summary>WaveSpeedAI: fetches the webhook signing secret (<c>GET webhook/secret</c>), for <see cref="WebhookVerifier"/>.</summary>
    public virtual async Task<string> GetWebhookSecretAsync(CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(_profile.BaseUrl, "webhook/secret"));
        message.Options.Set(NanoBananaResilienceHandler.ResponseLimitOption, _limits.MaxJsonBytes);
        Authorize(message);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (Redirected(response, message.RequestUri!) is { } redirect)
        {
            throw redirect("Fetching the webhook secret");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw await ReadErrorAsync(response, null, "Fetching the webhook secret", cancellationToken).ConfigureAwait(false);
        }

        var body = await ReadBodyAsync(response.Content, _limits.MaxJsonBytes, _retry.AttemptTimeout, cancellationToken).ConfigureAwait(false);
        return WireParser.ReadSecret(body) ?? throw WireParser.Malformed("No webhook secret in the response.", body, response.StatusCode, null, Redactor);
    }

    /// <summary>Whether a poll URL is on the configured API host (and may therefore be fetched with the key).</summary>
    public bool IsApiHost(Uri? uri) => _profile.IsApiOrigin(uri);

    private async Task<Prediction> GetCoreAsync(Uri uri, string? predictionId, bool expectInline, CancellationToken cancellationToken, AttemptClock? attempts = null)
    {
        var what = $"Polling prediction {Diagnostics.SafeText.Value(predictionId ?? uri.AbsolutePath)}";
        var limit = expectInline ? _limits.MaxInlineResponseBytes : _limits.MaxJsonBytes;
        using var message = new HttpRequestMessage(HttpMethod.Get, uri);
        message.Options.Set(NanoBananaResilienceHandler.ResponseLimitOption, limit);
        if (attempts is not null)
        {
            message.Options.Set(NanoBananaResilienceHandler.AttemptClockOption, attempts);
        }

        Authorize(message);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (BoundedBody.TooLargeException ex)
        {
            throw TooLarge(what, ex.Limit, expectInline ? Setting("Limits:MaxJsonBytes") + " + MaxImageBytes" : Setting("Limits:MaxJsonBytes"), predictionId, ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or IOException)
        {
            throw new NanoBananaApiException($"{what} failed after retries: {ex.Message}", ex) { PredictionId = predictionId, ErrorCode = NanoBananaErrorCodes.Transport };
        }

        using (response)
        {
            if (Redirected(response, uri, predictionId) is { } redirect)
            {
                throw redirect(what);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw await ReadErrorAsync(response, predictionId, what, cancellationToken).ConfigureAwait(false);
            }

            byte[] body;
            try
            {
                body = await ReadBodyAsync(response.Content, limit, _retry.AttemptTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (BoundedBody.TooLargeException ex)
            {
                throw TooLarge(what, ex.Limit, Setting("Limits:MaxJsonBytes"), predictionId, ex);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new NanoBananaApiException($"{what}: the response body could not be read in time ({ex.Message}).", ex) { PredictionId = predictionId, ErrorCode = NanoBananaErrorCodes.Transport };
            }

            try
            {
                return WireParser.ParsePrediction(body, response.StatusCode, Redactor, knownId: predictionId, operation: what, baseUrl: _profile.BaseUrl, statuses: Statuses);
            }
            catch (MalformedResponseException ex)
            {
                throw new MalformedResponseException(ex.Message, ex) { PredictionId = predictionId, RawBodyExcerpt = ex.RawBodyExcerpt, StatusCode = ex.StatusCode, ErrorCode = ex.ErrorCode };
            }
        }
    }

    /// <summary>
    /// Writes one output to a stream without buffering the whole image: a URL (or a path relative to the API's origin,
    /// resolved against it) is downloaded (never with the API key,
    /// whatever its host; only URLs the output policy allows; only image content; within
    /// <see cref="LimitOptions.MaxImageBytes"/> and <see cref="LimitOptions.DownloadTimeout"/>); a base64 output is decoded.
    /// </summary>
    /// <returns>The media type ("image/png", "image/jpeg", …).</returns>
    /// <exception cref="OutputUnavailableException">The URL is refused, the content is not an image, or the download failed or timed out.</exception>
    /// <exception cref="ResponseLimitExceededException">The image is larger than <see cref="LimitOptions.MaxImageBytes"/>.</exception>
    public virtual Task<string> DownloadAsync(string output, Stream destination, CancellationToken cancellationToken = default) =>
        DownloadAsync(output, destination, null, 0, cancellationToken);

    internal async Task<string> DownloadAsync(string output, Stream destination, string? predictionId, int index, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        ArgumentNullException.ThrowIfNull(destination);
        if (!OutputDecoder.LooksLikeUrl(output, _profile.BaseUrl, out var uri))
        {
            var decoded = OutputDecoder.DecodeInline(output, _limits.MaxImageBytes, Setting("Limits:MaxImageBytes"), predictionId, index);
            await destination.WriteAsync(decoded.Bytes, cancellationToken).ConfigureAwait(false);
            return decoded.MediaType;
        }

        using var span = Diagnostics.GuardedSpan.Start("nanobanana.download", System.Diagnostics.ActivityKind.Client);
        var activity = span.Activity;
        activity?.SetTag("url.path", Diagnostics.SafeText.Value(uri.AbsolutePath));
        activity?.SetTag(Diagnostics.NanoBananaTelemetry.TagPrediction, Diagnostics.SafeText.Value(predictionId));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_limits.DownloadTimeout);
        try
        {
            return await DownloadCoreAsync(uri, destination, predictionId, index, activity, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && predictionId is not null && ex is not PredictionCanceledException)
        {
            // The caller stopped a download of a completed (billed) prediction: say which, so it can be fetched again.
            throw new PredictionCanceledException(
                $"Downloading output {index} of prediction {Diagnostics.SafeText.Value(predictionId)} was cancelled. The prediction completed; resume it by id to fetch its output again (outputs are kept for a limited time).",
                ex,
                cancellationToken)
            {
                PredictionId = predictionId,
                LastStatus = PredictionStatus.Completed.Value,
            };
        }
        catch (Exception ex) when (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var failure = OutputDecoder.Unavailable(predictionId, index, $"the download did not finish within {_limits.DownloadTimeout} ({Setting("Limits:DownloadTimeout")})", ex);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failure.Message);
            throw failure;
        }
        catch (HttpRequestException ex) when (ex.InnerException is OutputUrlPolicy.AddressRefusedException refused)
        {
            var failure = OutputDecoder.Unavailable(predictionId, index, $"its URL {uri.GetLeftPart(UriPartial.Path)} is refused: {refused.Message}", ex);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failure.Message);
            throw failure;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutRejectedException)
        {
            var failure = OutputDecoder.Unavailable(predictionId, index, $"the download failed ({ex.Message})", ex);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failure.Message);
            throw failure;
        }
        catch (NanoBananaException ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    /// <summary>Null when an output URL may be fetched; otherwise why not.</summary>
    internal string? CheckOutputUrl(Uri uri) => _outputPolicy.Check(uri);

    /// <summary>The output policy (tests replace its resolver).</summary>
    internal OutputUrlPolicy OutputPolicy => _outputPolicy;

    private async Task<string> DownloadCoreAsync(Uri uri, Stream destination, string? predictionId, int index, System.Diagnostics.Activity? activity, CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            if (_outputPolicy.Check(uri) is { } refused)
            {
                throw OutputDecoder.Unavailable(predictionId, index, $"its URL {uri.GetLeftPart(UriPartial.Path)} is refused: {refused}", null);
            }

            using var message = new HttpRequestMessage(HttpMethod.Get, uri);
            message.Options.Set(OutputUrlPolicy.RequestOption, _outputPolicy);
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("http.response.status_code", (int)response.StatusCode);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                var location = response.Headers.Location;
                if (location is null || hop >= _limits.MaxDownloadRedirects)
                {
                    throw OutputDecoder.Unavailable(predictionId, index, location is null
                        ? $"the download answered {status} without a Location"
                        : $"the download redirected more than {_limits.MaxDownloadRedirects} times ({Setting("Limits:MaxDownloadRedirects")})", null);
                }

                var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                if (next.Scheme != Uri.UriSchemeHttps && !(next.IsLoopback && uri.IsLoopback))
                {
                    throw OutputDecoder.Unavailable(predictionId, index, $"the download redirected to {next.GetLeftPart(UriPartial.Authority)}, which is not https", null);
                }

                uri = next;
                continue;
            }

            // An HttpClient of the caller's that follows redirects itself: judge where it ended up.
            if (response.RequestMessage?.RequestUri is { } final && final != uri && _outputPolicy.Check(final) is { } refusedFinal)
            {
                throw OutputDecoder.Unavailable(predictionId, index, $"the download was redirected to {final.GetLeftPart(UriPartial.Authority)}, which is refused: {refusedFinal}", null);
            }

            if (!response.IsSuccessStatusCode)
            {
                var error = await ReadErrorAsync(response, predictionId, $"Downloading {uri.GetLeftPart(UriPartial.Path)}", cancellationToken).ConfigureAwait(false);
                // Gone or forbidden: output URLs expire (WaveSpeedAI keeps outputs 7 days, a signed URL sooner), and a fresh
                // poll of the prediction carries its URLs anew.
                var expired = response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone or HttpStatusCode.Forbidden
                    ? predictionId is null
                        ? " Output URLs expire: download outputs promptly."
                        : " Output URLs expire: if the prediction is still kept, resuming it by id (client.ResumeAsync) gets its URLs again."
                    : "";
                throw new OutputUnavailableException($"Output {index} of prediction {Diagnostics.SafeText.Value(predictionId) ?? "(unknown)"} could not be downloaded: {error.Message}{expired}", error) { PredictionId = predictionId, OutputIndex = index };
            }

            // The bytes decide, not the label: storage often serves an image under a generic type (S3's default for an
            // object stored without one is binary/octet-stream), and refusing it on the label cost a paid image.
            var declared = response.Content.Headers.ContentType?.MediaType;
            var isImageType = declared is not null && declared.StartsWith("image/", StringComparison.OrdinalIgnoreCase);
            if (response.Content.Headers.ContentLength is { } length && length > _limits.MaxImageBytes)
            {
                throw TooLarge($"Downloading output {index}", _limits.MaxImageBytes, Setting("Limits:MaxImageBytes"), predictionId, null);
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var disposing = stream.ConfigureAwait(false);
            var buffer = new byte[81920];

            // Read far enough to see the magic bytes before writing anything.
            var head = 0;
            int read;
            while (head < 16 && (read = await stream.ReadAsync(buffer.AsMemory(head, 16 - head), cancellationToken).ConfigureAwait(false)) > 0)
            {
                head += read;
            }

            var sniffed = OutputDecoder.SniffMediaType(buffer.AsSpan(0, head));
            if (!isImageType && sniffed is null)
            {
                throw OutputDecoder.Unavailable(predictionId, index, $"the download is not an image: its content type is {(declared is null ? "not given" : Redactor.Clean(declared))} and its bytes have no PNG, JPEG, WebP or GIF signature", null);
            }

            long total = head;
            await destination.WriteAsync(buffer.AsMemory(0, head), cancellationToken).ConfigureAwait(false);
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > _limits.MaxImageBytes)
                {
                    throw TooLarge($"Downloading output {index}", _limits.MaxImageBytes, Setting("Limits:MaxImageBytes"), predictionId, null);
                }

                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            return sniffed ?? declared!; // what the bytes are, when they say; else the image type declared
        }
    }

    // The Authorization value the SDK set on a request, kept with it: a 401 compares the header that left against it
    // (the key may have changed since the request left).
    private static readonly HttpRequestOptionsKey<string> SentAuthorization = new("NanoBanana.Authorization");

    // The Authorization header's value for a key and the configured scheme.
    private string AuthorizationValue(string key) => _profile.AuthScheme == AuthScheme.Bearer ? $"Bearer {key}" : key;

    private void Authorize(HttpRequestMessage message)
    {
        // The key goes only to the configured API origin, per request (never as a default header).
        if (_apiKey is { Length: > 0 } key && _profile.IsApiOrigin(message.RequestUri))
        {
            var value = AuthorizationValue(key);
            message.Headers.TryAddWithoutValidation("Authorization", value);
            message.Options.Set(SentAuthorization, value);
        }
    }

    // API calls never follow redirects: a 3xx (or a response from another origin, when a caller's HttpClient followed
    // one itself) is an error naming the target host.
    private Func<string, NanoBananaApiException>? Redirected(HttpResponseMessage response, Uri requested, string? predictionId = null)
    {
        var status = (int)response.StatusCode;
        if (status is >= 300 and < 400)
        {
            var target = response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l : new Uri(requested, l)).GetLeftPart(UriPartial.Authority) : "(no Location)";
            return operation => new NanoBananaApiException(Redactor.Clean($"{operation} failed: the service answered {status} redirecting to {target}; API requests never follow redirects.")!)
            {
                StatusCode = response.StatusCode,
                ErrorCode = NanoBananaErrorCodes.Redirect,
                PredictionId = predictionId,
            };
        }

        if (response.RequestMessage?.RequestUri is { } final && !_profile.IsApiOrigin(final))
        {
            return operation => new NanoBananaApiException(Redactor.Clean($"{operation} failed: the request was redirected to {final.GetLeftPart(UriPartial.Authority)}, which is not the API host; its answer is not trusted.")!)
            {
                StatusCode = response.StatusCode,
                ErrorCode = NanoBananaErrorCodes.Redirect,
                PredictionId = predictionId,
            };
        }

        return null;
    }

    // Reads a body within the limit. With the resilience handler the body is already in memory (read inside the
    // attempt's timeout); with a caller's own HttpClient the same bound and timeout apply here.
    private static async Task<byte[]> ReadBodyAsync(HttpContent content, long limit, TimeSpan timeout, CancellationToken cancellationToken, BoundedBody.ReceivedPart? received = null)
    {
        if (content is BoundedBody.BufferedContent buffered)
        {
            return buffered.Bytes.LongLength > limit ? throw new BoundedBody.TooLargeException(limit, buffered.Bytes.LongLength) : buffered.Bytes;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        return await BoundedBody.ReadAsync(content, limit, cts.Token, received).ConfigureAwait(false);
    }

    private async Task<NanoBananaApiException> ReadErrorAsync(HttpResponseMessage response, string? predictionId, string operation, CancellationToken cancellationToken)
    {
        byte[] body;
        bool cut;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(_retry.AttemptTimeout);
            (body, cut) = await BoundedBody.ReadPrefixAsync(response.Content, MaxErrorBodyBytes, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            (body, cut) = ([], false);
        }

        var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden && AuthorizationReplaced(response.RequestMessage)
            ? ". The key was not what the service saw: a handler in the HttpClient's pipeline replaced or removed the SDK's Authorization header (a token handler your app adds to every HttpClient, say); leave the SDK's client out of it."
            : null;
        return WireParser.ApiError(response.StatusCode, response.ReasonPhrase, body, cut, NanoBananaResilienceHandler.RetryAfter(response.Headers.RetryAfter, TimeProvider.System), Redactor, predictionId, operation, hint);
    }

    // Whether an API request went out without the Authorization header the SDK gave it. Compared, never shown.
    private bool AuthorizationReplaced(HttpRequestMessage? request)
    {
        if (request is null)
        {
            return false;
        }

        if (!request.Options.TryGetValue(SentAuthorization, out var given))
        {
            // A request a handler built anew has lost its options: judged against the key the SDK sends now.
            if (_apiKey is not { Length: > 0 } key || !_profile.IsApiOrigin(request.RequestUri))
            {
                return false;
            }

            given = AuthorizationValue(key);
        }

        return !request.Headers.TryGetValues("Authorization", out var sent) || !string.Equals(string.Join(", ", sent), given, StringComparison.Ordinal);
    }

    private static ResponseLimitExceededException TooLarge(string what, long limit, string limitName, string? predictionId, Exception? inner) =>
        new($"{what}: the service sent more than {limit} bytes ({limitName}). Nothing beyond the limit was read." +
            (predictionId is null ? "" : $" Prediction {Diagnostics.SafeText.Value(predictionId)} may have completed and been billed: resume it with a larger limit instead of submitting again."), inner)
        {
            PredictionId = predictionId,
            Limit = limit,
            LimitName = limitName,
        };

    // A 2xx answer that broke off (cut, too large, not JSON from some point on) after naming its prediction: the job was
    // accepted, and is followed by that id (the first poll says the rest). Before, the id was dropped with the answer and
    // the paid job reported as an unknown outcome. When the caller cancelled meanwhile, the unknown outcome carries it.
    private static Prediction? AcceptedInPart(SubmitRequest request, string? namedId, string what, CancellationToken cancellationToken) =>
        namedId is not null && !cancellationToken.IsCancellationRequested
            ? new Prediction { Id = namedId, Model = request.Model.Id, Status = PredictionStatus.Created, ReadInPart = what }
            : null;

    private const string RepeatRefused = "a handler in the HttpClient's pipeline (a retry or hedging handler the app added, for example) sent it again after an earlier attempt; "
        + "the SDK refused that repeat, so the job is not paid twice, but the earlier attempt may have been accepted. A submit is the SDK's to retry: remove that handler from this client";

    private static SubmitOutcomeUnknownException OutcomeUnknown(SubmitRequest request, string path, string what, Exception inner, string? namedId = null)
    {
        // The provider's own words (already redacted) belong in the message, not only on the inner exception.
        var api = inner as NanoBananaApiException;
        var said = api?.ProviderMessage is { } m && api is not MalformedResponseException ? $" (the service said: \"{m}\")" : "";
        var named = namedId is null ? ""
            : $" The answer named prediction {Diagnostics.SafeText.Value(namedId)} before it broke off: resume it (exception.PredictionId) rather than submitting again.";
        return new($"Submit to {path} may have reached the service: {what}{said}. It was NOT repeated, because every accepted submit is billed. " +
            "The job may exist and be charged: check the provider's prediction history before submitting again." + named + (request.SyncMode ? SyncModeNote : ""), inner)
        {
            PredictionId = namedId ?? (inner as NanoBananaException)?.PredictionId,
            StatusCode = api?.StatusCode,
            ProviderMessage = api is MalformedResponseException ? null : api?.ProviderMessage,
        };
    }

    /// <summary>
    /// Added to an unknown outcome in sync mode: the service tells the id only when the job ends, so the whole job runs
    /// inside the submit, and a submit cut off while it waited most likely left a running, billed job with no id.
    /// </summary>
    internal const string SyncModeNote =
        " In sync mode the service gives the prediction id only when the job ends, so a submit cut off while it waited most likely " +
        "left a running, billed job whose id the SDK never saw; where waits may be cancelled or cut short by a deadline, use async mode " +
        "(UseSyncMode = false, the default), whose id is known the moment the job is accepted.";
}
