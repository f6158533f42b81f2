using System.Net;
using System.Net.Http.Headers;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace NanoBanana.Protocol;

/// <summary>
/// Transport resilience for single HTTP exchanges: a <see cref="DelegatingHandler"/> around Polly.Core pipelines.
/// Idempotent requests (GET) are retried on 408/429/5xx, dropped connections and per-attempt timeouts, with
/// exponential backoff, jitter and Retry-After as a capped floor. A POST (a billable submit) is retried only when
/// it surely was not accepted: the connection could not be established, or (opt-in) a 429 answer.
/// </summary>
internal sealed class NanoBananaResilienceHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<TimeSpan> TimeoutKey = new("NanoBanana.AttemptTimeout");

    /// <summary>The request option that overrides the per-attempt timeout of one request.</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> AttemptTimeoutOption = new("NanoBanana.AttemptTimeout");

    /// <summary>
    /// The request option that makes the handler read the response body inside the attempt (so the attempt timeout
    /// covers the body and a body cut off mid-way is retried like any transient fault), up to this many bytes. A larger
    /// success body fails the attempt without retry; an error body keeps its first 64 KiB.
    /// </summary>
    public static readonly HttpRequestOptionsKey<long> ResponseLimitOption = new("NanoBanana.ResponseLimit");

    /// <summary>Where the start of a 2xx body is kept when reading it fails (a submit's answer may have named its prediction).</summary>
    internal static readonly HttpRequestOptionsKey<BoundedBody.ReceivedPart> ReceivedPartOption = new("NanoBanana.ReceivedPart");

    /// <summary>
    /// The request option that marks a POST as safe to repeat (an upload costs nothing), so it is retried like a GET.
    /// A submit never carries it.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> RepeatableOption = new("NanoBanana.Repeatable");

    /// <summary>The request option that overrides <see cref="RetryOptions.RetrySubmitOnRateLimit"/> for one submit.</summary>
    internal static readonly HttpRequestOptionsKey<bool> RetryOnRateLimitOption = new("NanoBanana.RetryOnRateLimit");

    /// <summary>The request option through which the handler tells when the request's last attempt was sent.</summary>
    internal static readonly HttpRequestOptionsKey<AttemptClock> AttemptClockOption = new("NanoBanana.AttemptClock");

    private const int MaxErrorBodyBytes = 64 * 1024;

    private readonly RetryOptions _options;
    private readonly TimeProvider _time;
    private readonly ResilienceTelemetry? _telemetry;
    private readonly ResiliencePipeline<HttpResponseMessage> _idempotent;
    private readonly ResiliencePipeline<HttpResponseMessage> _submit;

    /// <summary>Creates the handler.</summary>
    public NanoBananaResilienceHandler(RetryOptions options, TimeProvider? timeProvider = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _telemetry = Diagnostics.NonThrowingLogger.Wrap(logger) is { } safe ? new ResilienceTelemetry(safe) : null;
        _idempotent = Build(options.MaxRetries, IsTransientForIdempotent);
        _submit = Build(options.MaxSubmitRetries, IsSafeToRetrySubmit);
    }

    /// <summary>
    /// The transport the SDK builds for itself and registers with DI: pooled connections recycled every 5 minutes, and
    /// no automatic redirects (API calls never follow one; downloads follow a few themselves, each checked), and a connect
    /// step that refuses a download whose host resolves to a link-local, metadata or private address.
    /// </summary>
    public static SocketsHttpHandler CreatePrimaryHandler() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = 256,
        AllowAutoRedirect = false,
        ConnectCallback = OutputUrlPolicy.ConnectAsync,
    };

    /// <summary>Raised before each retry, for logging and tests: the request, the attempt number and the delay.</summary>
    public event Action<HttpRequestMessage, int, TimeSpan>? Retrying;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var repeatable = request.Method == HttpMethod.Get || request.Method == HttpMethod.Head
            || (request.Options.TryGetValue(RepeatableOption, out var free) && free);
        var pipeline = repeatable ? _idempotent : _submit;
        var timeout = request.Options.TryGetValue(AttemptTimeoutOption, out var t) ? t
            : request.Method == HttpMethod.Post ? _options.SubmitTimeout : _options.AttemptTimeout;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(TimeoutKey, timeout);
        context.Properties.Set(RequestKey, request);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, state) => await state.Self.SendCoreAsync(state.Request, ctx.CancellationToken).ConfigureAwait(false),
                context,
                (Self: this, Request: request)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("NanoBanana.Request");

    /// <summary>The request an execution of the pipeline is for.</summary>
    internal static HttpRequestMessage? RequestOf(ResilienceContext context) => context.Properties.TryGetValue(RequestKey, out var request) ? request : null;

    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(AttemptClockOption, out var clock))
        {
            clock.Mark();
        }

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!request.Options.TryGetValue(ResponseLimitOption, out var limit) || response.Content is BoundedBody.BufferedContent)
        {
            return response;
        }

        try
        {
            var original = response.Content;
            var (bytes, cut) = response.IsSuccessStatusCode
                ? (await BoundedBody.ReadAsync(original, limit, cancellationToken, request.Options.TryGetValue(ReceivedPartOption, out var received) ? received : null).ConfigureAwait(false), false)
                : await BoundedBody.ReadPrefixAsync(original, (int)Math.Min(limit, MaxErrorBodyBytes), cancellationToken).ConfigureAwait(false);
            response.Content = new BoundedBody.BufferedContent(bytes, cut, original.Headers);
            original.Dispose();
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private ResiliencePipeline<HttpResponseMessage> Build(int retries, Func<Outcome<HttpResponseMessage>, bool> shouldRetry)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time, TelemetryListener = _telemetry };
        if (retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = retries,
                ShouldHandle = args => ValueTask.FromResult(shouldRetry(args.Outcome)),
                // Polly's own exponential backoff with jitter, capped; a Retry-After answer sets the delay instead.
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.BaseDelay,
                MaxDelay = _options.MaxDelay,
                DelayGenerator = args => ValueTask.FromResult(RetryAfterDelay(args.Outcome)),
                OnRetry = args =>
                {
                    if (args.Context.Properties.TryGetValue(RequestKey, out var req))
                    {
                        // A submit is retried here only when its answer said it was not accepted (or it never left): its
                        // body, which leaves once, may leave again for this retry.
                        SubmitContent.Of(req)?.AllowAnotherSend();
                        Retrying?.Invoke(req, args.AttemptNumber + 1, args.RetryDelay);
                    }

                    return default;
                },
            });
        }

        builder.AddTimeout(new TimeoutStrategyOptions
        {
            TimeoutGenerator = args => ValueTask.FromResult(args.Context.Properties.TryGetValue(TimeoutKey, out var t) ? t : _options.AttemptTimeout),
        });
        return builder.Build();
    }

    /// <summary>
    /// The delay a Retry-After header asks for, capped at <see cref="RetryOptions.MaxRetryAfter"/>; null (Polly's
    /// backoff) when the answer has none. The retry never comes earlier than the header asks, up to the cap.
    /// </summary>
    internal TimeSpan? RetryAfterDelay(Outcome<HttpResponseMessage> outcome) =>
        RetryAfter(outcome.Result?.Headers.RetryAfter, _time) is { } ra ? (ra > _options.MaxRetryAfter ? _options.MaxRetryAfter : ra) : null;

    internal static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, TimeProvider time)
    {
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static bool IsTransientForIdempotent(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        // A download whose host resolves to a refused address: asking again cannot help.
        { Exception: HttpRequestException { InnerException: OutputUrlPolicy.AddressRefusedException } } => false,
        // IOException: the connection broke while the body was being read.
        { Exception: HttpRequestException or TimeoutRejectedException or IOException } => true,
        { Result: { } r } => IsTransientStatus(r.StatusCode),
        _ => false,
    };

    private bool IsSafeToRetrySubmit(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException ex } => _options.RetrySubmitWhenNotSent && SurelyNotSent(ex),
        { Result: { StatusCode: var gateway } } when SubmitStatus.ServiceNeverReached(gateway) => _options.RetrySubmitWhenNotSent, // one hop further, the same
        { Result: { StatusCode: HttpStatusCode.TooManyRequests } r } =>
            r.RequestMessage?.Options.TryGetValue(RetryOnRateLimitOption, out var retry) == true ? retry : _options.RetrySubmitOnRateLimit,
        _ => false,
    };

    internal static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError;

    /// <summary>Whether the request certainly never reached the server (no connection was made).</summary>
    internal static bool SurelyNotSent(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError or HttpRequestError.SecureConnectionError;
}
