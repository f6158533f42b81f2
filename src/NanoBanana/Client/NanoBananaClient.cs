using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NanoBanana.Catalog;
using NanoBanana.Diagnostics;
using NanoBanana.Polling;
using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana;

/// <summary>
/// The facade: <c>var result = await client.GenerateAsync(new ImageJob("a cat"), ct);</c>. Validates, routes with the
/// tier policy, submits without ever repeating a submit that may have been accepted, waits with the adaptive
/// schedule under a deadline, falls back on service failures, and returns images with the explanation.
/// </summary>
public class NanoBananaClient : INanoBananaClient, IAttemptHost, IDisposable, IAsyncDisposable
{
    private readonly HttpClient? _ownedHttp;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ImageTier, ImageModel> _successors = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Id, string Model), ImageGenerationOperation> _resuming = new();
    private readonly TimeProvider _time;
    private IReferenceImageUploader? _providerUploader;
    private readonly CompletionTimesStore? _completionTimes;
    private bool _disposed;
    private IDisposable? _keyFollower;

    /// <summary>Creates a client with its own <see cref="HttpClient"/> (with the resilience handler). One line, no DI.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public NanoBananaClient(NanoBananaOptions options)
        : this(options, httpClient: null)
    {
    }

    /// <summary>Creates a client. With <paramref name="httpClient"/> null, the client builds and owns one.</summary>
    /// <param name="options">The options.</param>
    /// <param name="httpClient">An HttpClient with the SDK's resilience pipeline (from <see cref="CreateHttpClient"/> or the DI registration), or null. In one you build yourself, a retrying handler below one that reads a submit's body as a string can send the submit twice (the DI registration's pipeline guards against that).</param>
    /// <param name="loggerFactory">Logging; null for none.</param>
    /// <param name="timeProvider">Time; null for the system clock.</param>
    /// <param name="policy">A custom tier policy; null for <see cref="TierPolicy"/> over the configured catalog.</param>
    public NanoBananaClient(NanoBananaOptions options, HttpClient? httpClient, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, ITierPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid NanoBanana options: " + string.Join(" ", errors), nameof(options));
        }

        Options = options = options.Snapshot(); // later changes to the caller's object do not reach this client
        var time = timeProvider ?? TimeProvider.System;
        _time = time;
        Logger = NonThrowingLogger.Wrap(loggerFactory?.CreateLogger<NanoBananaClient>()) ?? NullLogger.Instance;
        Catalog = ModelCatalog.Create(options.Catalog);
        LatencyStatistics = new LatencyStatistics(options.Polling.LatencyWindow, options.Polling.LatencyHalfLife, options.Polling.LatencyPriorWeight);
        Policy = policy ?? new TierPolicy(Catalog, LatencyStatistics);
        if (httpClient is null)
        {
            _ownedHttp = CreateHttpClient(options, time, loggerFactory);
            httpClient = _ownedHttp;
        }

        Protocol = new NanoBananaProtocolClient(httpClient, options);
        DefaultSchedule = new AdaptivePollSchedule(LatencyStatistics, options.Polling);
        Waiter = new PredictionWaiter(Protocol, LatencyStatistics, options.Polling, time, Logger);
        if (options.Polling.CompletionTimesFile is { } file)
        {
            _completionTimes = new CompletionTimesStore(file, LatencyStatistics, options.EffectiveBaseUrl, time, Logger);
            _completionTimes.Load();
        }
    }

    /// <summary>For mocking.</summary>
    protected NanoBananaClient()
    {
        Options = new NanoBananaOptions();
        Catalog = ModelCatalog.Default;
        LatencyStatistics = new LatencyStatistics();
        Policy = TierPolicy.Default;
        Protocol = null!;
        DefaultSchedule = new FixedPollSchedule(TimeSpan.FromSeconds(1));
        Waiter = null!;
        Logger = NullLogger.Instance;
        _time = TimeProvider.System;
    }

    /// <summary>
    /// Builds an <see cref="HttpClient"/> with the SDK's resilience pipeline, as the client does for itself. Such clients
    /// share a connection pool in the process (one per download policy: the same allowed output hosts, the API on
    /// loopback or not), so a client made and disposed per request reuses connections instead of leaving a closed
    /// socket behind each time.
    /// </summary>
    /// <param name="options">The options (retries, timeouts).</param>
    /// <param name="timeProvider">Time; null for the system clock.</param>
    /// <param name="loggerFactory">Where transport retries and timeouts are logged (Polly's events); null for nowhere.</param>
    public static HttpClient CreateHttpClient(NanoBananaOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var handler = new NanoBananaResilienceHandler(options.Retry, timeProvider, loggerFactory?.CreateLogger<NanoBananaResilienceHandler>())
        {
            InnerHandler = SharedTransport.Lease(new OutputUrlPolicy(options.Limits.AllowedOutputHosts, options.EffectiveBaseUrl).PoolKey),
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The options as they were when the client was built (a copy: changing the object passed in has no effect).</summary>
    public NanoBananaOptions Options { get; }

    /// <summary>The model catalog in use.</summary>
    public ModelCatalog Catalog { get; }

    /// <summary>The tier policy in use.</summary>
    public ITierPolicy Policy { get; }

    /// <summary>Live completion-time statistics (feed the schedule and the Speed priority).</summary>
    internal LatencyStatistics LatencyStatistics { get; }

    /// <summary>
    /// Writes what this client has learned about completion times (per model, what each wait saw; no secrets) as JSON,
    /// for <see cref="LoadCompletionTimesAsync"/> in a later process: a fresh client starts from the catalog's typical
    /// range and spends its first ~30 jobs learning. <see cref="PollingOptions.CompletionTimesFile"/> does this for you
    /// with a file.
    /// </summary>
    /// <param name="destination">Where to write; left open.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task SaveCompletionTimesAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return CompletionTimesFile.WriteAsync(destination, LatencyStatistics, CompletionTimesStore.Service(Options.EffectiveBaseUrl), _time.GetUtcNow(), cancellationToken);
    }

    /// <summary>
    /// Reads completion times written by <see cref="SaveCompletionTimesAsync"/> and adds them as older than anything
    /// this client has seen itself (recency weighting then favours what it sees from now on). Best called before the
    /// first job. Unlike <see cref="PollingOptions.CompletionTimesFile"/>, this does not check which service they were
    /// learned from: the caller chose the stream.
    /// </summary>
    /// <param name="source">The document; read to its end (at most 8 MiB), left open.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>How many waits were added.</returns>
    /// <exception cref="InvalidDataException">The document is too large, not this format, or holds an implausible wait; nothing was added.</exception>
    public async Task<int> LoadCompletionTimesAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var contents = await CompletionTimesFile.ReadAsync(source, cancellationToken).ConfigureAwait(false);
        foreach (var model in contents.Models)
        {
            LatencyStatistics.Import(model);
        }

        return contents.Waits;
    }

    /// <summary>The raw protocol client.</summary>
    public NanoBananaProtocolClient Protocol { get; }

    /// <summary>
    /// Replaces the API key for every request from now on, without rebuilding the client: a key rotated after a leak
    /// takes effect at once, in waits already under way too (their next poll carries it), and nothing is sent again.
    /// Requests already sent keep the key they left with, and the old key stays hidden in messages, since an answer to
    /// one of them may echo it. The DI registration calls it when the configuration the client is bound to reloads with
    /// another key. <see cref="Options"/> keep the key the client was built with (it is never shown).
    /// </summary>
    /// <param name="apiKey">The new key: not empty, and sendable in a header.</param>
    /// <exception cref="ArgumentException">The key is empty or cannot be sent in a header; the client keeps its key.</exception>
    public void UpdateApiKey(string apiKey)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Protocol.ReplaceApiKey(apiKey);
    }

    /// <summary>
    /// Follows the API key of the options named <paramref name="name"/> in <paramref name="monitor"/>: when the
    /// configuration reloads with another key, the client sends it from then on (<see cref="UpdateApiKey"/>). Options
    /// that fail validation never reach the listener (the monitor refuses them), so the client keeps its key. Until disposed.
    /// </summary>
    internal void FollowApiKey(Microsoft.Extensions.Options.IOptionsMonitor<NanoBananaOptions> monitor, string name)
    {
        _keyFollower = monitor.OnChange((changed, changedName) =>
        {
            if (!string.Equals(changedName ?? "", name, StringComparison.Ordinal) || _disposed || changed.EffectiveApiKey is not { Length: > 0 } key)
            {
                return;
            }

            try
            {
                if (Protocol.ReplaceApiKey(key))
                {
                    Log.ApiKeyChanged(Logger, Protocol.Setting("ApiKey"));
                }
            }
            catch (ArgumentException ex)
            {
                Log.ApiKeyChangeRefused(Logger, Protocol.Setting("ApiKey"), ex.Message); // never thrown into the configuration's reload
            }
        });
    }

    /// <summary>The default poll schedule (adaptive).</summary>
    public IPollSchedule DefaultSchedule { get; }

    internal PredictionWaiter Waiter { get; }

    internal ILogger Logger { get; }

    /// <inheritdoc />
    public virtual RoutingDecision Route(ImageJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        using var span = GuardedSpan.Start("nanobanana.route");
        var activity = span.Activity;
        var decision = Policy.Route(job.ToRequirements());
        activity?.SetTag(NanoBananaTelemetry.TagModel, decision.Model.Id);
        activity?.SetTag(NanoBananaTelemetry.TagTier, decision.Model.Tier.ToString());
        Log.Routed(Logger, decision.Model.Id, decision.Model.Tier.ToString(), decision.EstimatedCostUsd, decision.Fallbacks.Count == 0 ? "none" : string.Join(", ", decision.Fallbacks.Select(f => f.Id)), decision.Reasons[0]);
        Log.Prompt(Logger, job.Prompt);
        return decision;
    }

    /// <inheritdoc />
    public virtual Task<ImageResult> GenerateAsync(ImageJob job, CancellationToken cancellationToken = default) =>
        GenerateAsync(job, null, cancellationToken);

    /// <inheritdoc />
    public virtual async Task<ImageResult> GenerateAsync(ImageJob job, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var span = GuardedSpan.Start("nanobanana.generate");
        var activity = span.Activity;
        try
        {
            var result = await GenerateCoreAsync(job, progress, activity, cancellationToken).ConfigureAwait(false);
            activity?.SetTag(NanoBananaTelemetry.TagModel, result.Model.Id);
            activity?.SetTag(NanoBananaTelemetry.TagPrediction, SafeText.Value(result.PredictionId));
            return result;
        }
        catch (Exception ex) when (activity is not null)
        {
            NanoBananaTelemetry.RecordFailure(activity, ex);
            throw;
        }
    }

    private async Task<ImageResult> GenerateCoreAsync(ImageJob job, IProgress<GenerationProgress>? progress, Activity? activity, CancellationToken cancellationToken)
    {
        var decision = Route(job);
        job = await UploadLocalImagesAsync(job, cancellationToken).ConfigureAwait(false);
        var operation = await new AttemptLoop(this, job, decision).RunAsync(wait: true, progress, activity, cancellationToken).ConfigureAwait(false);
        return operation.Value;
    }

    /// <inheritdoc />
    public virtual Task<ImageResult> EditAsync(ImageJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.ReferenceImages is not { Count: > 0 }) // null as well: the job's own check names it, but only after this one
        {
            throw new ArgumentException($"An edit needs at least one entry in {nameof(ImageJob.ReferenceImages)}.", nameof(job));
        }

        return GenerateAsync(job, null, cancellationToken);
    }

    /// <inheritdoc />
    public virtual async Task<ImageGenerationOperation> StartGenerationAsync(ImageJob job, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var decision = Route(job);
        job = await UploadLocalImagesAsync(job, cancellationToken).ConfigureAwait(false);
        return await new AttemptLoop(this, job, decision).RunAsync(wait: false, null, null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public virtual ImageGenerationOperation GetOperation(string predictionId, string? model = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predictionId);
        ProviderProfile.CheckPredictionId(predictionId); // before any request
        var standard = Catalog.Models.FirstOrDefault(m => m.Tier == ImageTier.NanoBanana2) ?? Catalog.Models[0];
        var resolved = model is null ? standard : Catalog.Find(model) ?? StandIn(standard, model);
        if (resolved.SuccessorId is { } next && model is not null && string.Equals(model[(model.LastIndexOf('/') + 1)..].Trim(), next, StringComparison.OrdinalIgnoreCase))
        {
            resolved = resolved.ToSuccessor();
        }

        // A resumed prediction started at an unknown time: assume it has run at least its model's typical minimum,
        // so the first wait is short.
        var start = Waiter.Time.GetTimestamp() - (long)(resolved.TypicalLatencyMin.TotalSeconds * Waiter.Time.TimestampFrequency);
        var state = new PollState { Id = predictionId, Model = resolved, StartTimestamp = start, LastPendingElapsed = 0, Resumed = true };
        return new ImageGenerationOperation(this, state, null, null, null);
    }

    // A model the catalog does not know never stands between a caller and a paid prediction: the catalog may have
    // changed since the job was accepted (a preview id moved to its stable one). The model only times the polls, so a
    // stand-in keeps the id and spans every latency the catalog knows.
    private ImageModel StandIn(ImageModel standard, string model)
    {
        var id = model.Trim();
        Log.UnknownModelResumed(Logger, SafeText.Value(id), string.Join(", ", Catalog.Models.Select(m => m.Id)));
        return standard.StandIn(id, Catalog.Models.Min(m => m.TypicalLatencyMin), Catalog.Models.Max(m => m.TypicalLatencyMax));
    }

    /// <inheritdoc />
    public virtual Task<ImageResult> ResumeAsync(string predictionId, string? model = null, CancellationToken cancellationToken = default)
    {
        // One wait under one deadline: the first poll goes out at once, inside the same retry discipline as the rest.
        // Resumes that overlap join one operation, so one poll loop: each used to poll on its own. A bad id or model is
        // refused here, before any request.
        var fresh = GetOperation(predictionId, model);
        var key = (predictionId, model ?? "");
        return WaitResumedAsync(key, _resuming.GetOrAdd(key, fresh), cancellationToken);
    }

    private async Task<ImageResult> WaitResumedAsync((string, string) key, ImageGenerationOperation operation, CancellationToken cancellationToken)
    {
        try
        {
            return await operation.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Gone once nobody waits on it; a resume that comes later starts afresh. (One that took it just before it went
            // runs its own loop on it: as many loops as before, never a wrong answer.)
            if (operation.IsIdle)
            {
                _resuming.TryRemove(new KeyValuePair<(string, string), ImageGenerationOperation>(key, operation));
            }
        }
    }

    internal int ResumesInFlight => _resuming.Count;

    // Local reference images go up before the submit, once per job (fallbacks reuse the URLs). Uploads are free; a
    // provider without an upload and no uploader configured is refused here, before any request.
    private async Task<ImageJob> UploadLocalImagesAsync(ImageJob job, CancellationToken cancellationToken)
    {
        var local = job.ReferenceImages.Count(r => r.IsLocal);
        if (local == 0)
        {
            return job;
        }

        var uploader = Options.ReferenceImageUploader ?? (Protocol.SupportsUpload ? _providerUploader ??= new ProviderUploader(Protocol) : null);
        if (uploader is null)
        {
            var first = job.ReferenceImages.First(r => r.IsLocal);
            throw new ArgumentException(
                $"{nameof(ImageJob.ReferenceImages)} holds {local} local image(s) ({first.FileName}, …) and {Options.Provider} documents no upload endpoint, so nothing was sent. " +
                $"Host the image and pass its https URL (ReferenceImage.Other(url)), or set {nameof(NanoBananaOptions)}.{nameof(NanoBananaOptions.ReferenceImageUploader)} " +
                "(or register an IReferenceImageUploader in the container) to put local images on storage the provider can fetch.",
                nameof(job));
        }

        // The job's deadline covers its uploads too: what they take is taken from the time left for the prediction.
        var deadline = job.Deadline ?? Options.Deadline;
        var started = _time.GetTimestamp();
        using var timer = new CancellationTokenSource(deadline, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var images = new ReferenceImage[job.ReferenceImages.Count];
        try
        {
            for (var i = 0; i < images.Length; i++)
            {
                var image = job.ReferenceImages[i];
                if (!image.IsLocal)
                {
                    images[i] = image;
                    continue;
                }

                using var span = GuardedSpan.Start("nanobanana.upload", ActivityKind.Client);
                var activity = span.Activity;
                var url = await uploader.UploadAsync(image, linked.Token).ConfigureAwait(false);
                if (url is null || !url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
                {
                    throw new InvalidOperationException($"The reference image uploader returned '{url}' for {image.FileName}; it must return an absolute http(s) URL.");
                }

                Log.Uploaded(Logger, image.FileName!, image.Length ?? 0, url.GetLeftPart(UriPartial.Path));
                images[i] = image.Uploaded(url);
            }
        }
        catch (OperationCanceledException ex) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new PredictionTimeoutException($"Uploading the job's {local} local reference image(s) did not finish within its deadline of {deadline}; nothing was submitted, nothing billed.", ex);
        }

        var left = deadline - _time.GetElapsedTime(started);
        return job with { ReferenceImages = images, Deadline = left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1) };
    }

    private sealed class ProviderUploader(NanoBananaProtocolClient protocol) : IReferenceImageUploader
    {
        public async Task<Uri> UploadAsync(ReferenceImage image, CancellationToken cancellationToken = default) =>
            await protocol.UploadAsync(await image.ReadAsync(cancellationToken).ConfigureAwait(false), image.FileName!, image.MediaType!, cancellationToken).ConfigureAwait(false);
    }

    ImageModel IAttemptHost.CurrentModel(ImageModel candidate) =>
        _successors.TryGetValue(candidate.Tier, out var moved) && moved.IsKnownAs(candidate.Id) ? moved : candidate;

    void IAttemptHost.RememberSuccessor(ImageModel successor) => _successors[successor.Tier] = successor;

    PredictionWaiter IAttemptHost.Waiter => Waiter;

    ILogger IAttemptHost.Logger => Logger;

    /// <summary>Disposes the HttpClient the client created for itself (not one it was given), after writing unsaved completion times to <see cref="PollingOptions.CompletionTimesFile"/> when it is set.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes owned resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _keyFollower?.Dispose();
            _completionTimes?.Dispose();
            _ownedHttp?.Dispose();
        }

        _disposed = true;
    }

    /// <summary>
    /// Disposes as <see cref="Dispose()"/> does, without blocking a thread: with <see cref="PollingOptions.CompletionTimesFile"/>
    /// set, the completion times still unsaved are written to the file first.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_disposed && _completionTimes is not null)
        {
            await _completionTimes.DisposeAsync().ConfigureAwait(false);
        }

        // The rest as Dispose(bool) does (the store, already disposed, returns at once).
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    public override string ToString() => $"NanoBananaClient {{ {Options} }}";
}
