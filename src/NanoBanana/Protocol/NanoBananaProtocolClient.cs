using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using NanoBanana.Catalog;
using Polly.Timeout;

namespace NanoBanana.Protocol;

/// <summary>
/// The raw /api/v3 protocol: submit, get a prediction, download outputs. One call, one exchange (plus the
/// transport retries of <see cref="NanoBananaResilienceHandler"/>). Thread-safe; reuse one instance.
/// The facade <see cref="NanoBananaClient"/> adds routing, waiting and fallbacks on top.
/// </summary>
public class NanoBananaProtocolClient
{
    private const int MaxErrorBodyBytes = 64 * 1024;
    private readonly HttpClient _http;
    private readonly ProviderProfile _profile;
    private readonly string? _apiKey;
    private readonly RetryOptions _retry;

    /// <summary>Creates the protocol client over an <see cref="HttpClient"/> (which should include the resilience handler).</summary>
    public NanoBananaProtocolClient(HttpClient httpClient, NanoBananaOptions options)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _http = httpClient;
        _profile = ProviderProfile.From(options);
        _apiKey = options.EffectiveApiKey;
        _retry = options.Retry;
    }

    /// <summary>For mocking.</summary>
    protected NanoBananaProtocolClient()
    {
        _http = null!;
        _profile = null!;
        _retry = new RetryOptions();
    }

    /// <summary>The API base URL.</summary>
    public Uri BaseUrl => _profile.BaseUrl;

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
        if (request.WebhookUrl is not null && _profile.Provider != ApiProvider.WaveSpeed)
        {
            throw new ArgumentException($"{nameof(SubmitRequest.WebhookUrl)}: webhooks are documented for WaveSpeedAI only; {_profile.Provider} has none.", nameof(request));
        }

        var path = _profile.SubmitPath(request.Model, request.IsEdit)
            + (request.WebhookUrl is { } hook ? "?webhook=" + Uri.EscapeDataString(hook.AbsoluteUri) : "");
        var body = JsonSerializer.SerializeToUtf8Bytes(_profile.Body(request), NanoBananaJsonContext.Default.SubmitBodyDto);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_profile.BaseUrl, path)) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (request.SyncMode)
        {
            message.Options.Set(NanoBananaResilienceHandler.AttemptTimeoutOption, _retry.SyncSubmitTimeout);
        }

        Authorize(message);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (NanoBananaResilienceHandler.SurelyNotSent(ex))
        {
            throw new NanoBananaApiException($"Submit to {path} failed: the service could not be reached ({ex.HttpRequestError}). Nothing was sent, nothing billed.", ex)
            {
                ErrorCode = "connection_failed",
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw OutcomeUnknown(path, ex is TimeoutRejectedException or OperationCanceledException ? "the submit timed out" : $"the connection failed mid-exchange ({ex.Message})", ex);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    return await WireParser.ParsePredictionAsync(stream, response.StatusCode, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or MalformedResponseException)
                {
                    throw OutcomeUnknown(path, $"the response could not be read ({ex.Message})", ex);
                }
            }

            var error = await ReadErrorAsync(response, null, $"Submit to {path}", cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.GatewayTimeout && request.SyncMode && error.PredictionId is { } id)
            {
                // A gateway 504 in sync mode with a known id: the job runs and is billed; keep polling it.
                return new Prediction { Id = id, Status = PredictionStatus.Processing, Error = "Sync mode timed out (gateway 504)", ErrorCode = 5004, Model = request.Model.Id };
            }

            if (response.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout)
            {
                throw OutcomeUnknown(path, $"the service answered {(int)response.StatusCode} after receiving the request", error);
            }

            throw error;
        }
    }

    /// <summary>Gets a prediction by id (<c>GET predictions/{id}/result</c> on the configured host).</summary>
    /// <exception cref="NanoBananaApiException">The service answered with an error after transport retries.</exception>
    /// <exception cref="MalformedResponseException">The body could not be read.</exception>
    public virtual Task<Prediction> GetPredictionAsync(string predictionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predictionId);
        return GetCoreAsync(new Uri(_profile.BaseUrl, ProviderProfile.PollPath(predictionId)), predictionId, cancellationToken);
    }

    /// <summary>
    /// Gets a prediction from the poll URL the service returned. A URL on any host other than the configured API host
    /// is refused (the key is never sent elsewhere and the SDK does not follow foreign poll URLs).
    /// </summary>
    /// <exception cref="NanoBananaException">The URL is not on the configured API host.</exception>
    public virtual Task<Prediction> GetPredictionAsync(Uri pollUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pollUrl);
        if (!_profile.IsApiOrigin(pollUrl))
        {
            throw new NanoBananaException($"Refusing to poll {pollUrl.GetLeftPart(UriPartial.Authority)}: it is not the configured API host {_profile.BaseUrl.GetLeftPart(UriPartial.Authority)}. Poll by prediction id instead.");
        }

        return GetCoreAsync(pollUrl, null, cancellationToken);
    }

    /// <summary>Polls a URL already checked to be on the API host, for a known prediction id (errors carry the id).</summary>
    internal Task<Prediction> GetPredictionAsync(Uri pollUrl, string predictionId, CancellationToken cancellationToken) =>
        IsApiHost(pollUrl) ? GetCoreAsync(pollUrl, predictionId, cancellationToken) : GetPredictionAsync(predictionId, cancellationToken);

    /// <summary>WaveSpeedAI: fetches the webhook signing secret (<c>GET webhook/secret</c>), for <see cref="WebhookVerifier"/>.</summary>
    public virtual async Task<string> GetWebhookSecretAsync(CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(_profile.BaseUrl, "webhook/secret"));
        Authorize(message);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ReadErrorAsync(response, null, "Fetching the webhook secret", cancellationToken).ConfigureAwait(false);
        }

        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return WireParser.ReadSecret(body) ?? throw WireParser.Malformed("No webhook secret in the response.", body, response.StatusCode, null);
    }

    /// <summary>Whether a poll URL is on the configured API host (and may therefore be fetched with the key).</summary>
    public bool IsApiHost(Uri? uri) => _profile.IsApiOrigin(uri);

    private async Task<Prediction> GetCoreAsync(Uri uri, string? predictionId, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, uri);
        Authorize(message);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException)
        {
            throw new NanoBananaApiException($"Polling prediction {predictionId ?? uri.AbsolutePath} failed after retries: {ex.Message}", ex) { PredictionId = predictionId, ErrorCode = "transport" };
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await ReadErrorAsync(response, predictionId, $"Polling prediction {predictionId ?? uri.AbsolutePath}", cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                var prediction = await WireParser.ParsePredictionAsync(stream, response.StatusCode, cancellationToken).ConfigureAwait(false);
                return prediction;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                throw new MalformedResponseException($"Polling prediction {predictionId}: the response body could not be read ({ex.Message}).", ex) { PredictionId = predictionId };
            }
            catch (MalformedResponseException ex)
            {
                throw new MalformedResponseException(ex.Message, ex) { PredictionId = predictionId, RawBodyExcerpt = ex.RawBodyExcerpt, StatusCode = ex.StatusCode, ErrorCode = ex.ErrorCode };
            }
        }
    }

    /// <summary>
    /// Writes one output to a stream without buffering the whole image: a URL is downloaded (never with the API key,
    /// whatever its host); a base64 output is decoded.
    /// </summary>
    /// <returns>The media type ("image/png", "image/jpeg", …).</returns>
    public virtual async Task<string> DownloadAsync(string output, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        ArgumentNullException.ThrowIfNull(destination);
        if (!Uri.TryCreate(output, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            var bytes = OutputDecoder.DecodeBase64(output);
            await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            return OutputDecoder.SniffMediaType(bytes) ?? "application/octet-stream";
        }

        using var activity = Diagnostics.NanoBananaTelemetry.ActivitySource.StartActivity("nanobanana.download", System.Diagnostics.ActivityKind.Client);
        activity?.SetTag("url.path", uri.AbsolutePath);
        using var message = new HttpRequestMessage(HttpMethod.Get, uri);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        activity?.SetTag("http.response.status_code", (int)response.StatusCode);
        if (!response.IsSuccessStatusCode)
        {
            throw await ReadErrorAsync(response, null, $"Downloading {uri.GetLeftPart(UriPartial.Path)}", cancellationToken).ConfigureAwait(false);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await stream.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        return response.Content.Headers.ContentType?.MediaType ?? OutputDecoder.MediaTypeFromPath(uri.AbsolutePath);
    }

    private void Authorize(HttpRequestMessage message)
    {
        // The key goes only to the configured API origin, per request (never as a default header).
        if (!string.IsNullOrEmpty(_apiKey) && _profile.IsApiOrigin(message.RequestUri))
        {
            message.Headers.TryAddWithoutValidation("Authorization", _profile.AuthScheme == AuthScheme.Bearer ? $"Bearer {_apiKey}" : _apiKey);
        }
    }

    private async Task<NanoBananaApiException> ReadErrorAsync(HttpResponseMessage response, string? predictionId, string operation, CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxErrorBodyBytes];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
            {
                read += n;
            }

            body = buffer.AsSpan(0, read).ToArray();
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            body = [];
        }

        return WireParser.ApiError(response.StatusCode, response.ReasonPhrase, body, NanoBananaResilienceHandler.RetryAfter(response.Headers.RetryAfter, TimeProvider.System), _apiKey, predictionId, operation);
    }

    private static SubmitOutcomeUnknownException OutcomeUnknown(string path, string what, Exception inner) =>
        new($"Submit to {path} may have reached the service: {what}. It was NOT repeated, because every accepted submit is billed. " +
            "The job may exist and be charged: check the provider's prediction history before submitting again.", inner)
        {
            PredictionId = (inner as NanoBananaException)?.PredictionId,
        };
}
