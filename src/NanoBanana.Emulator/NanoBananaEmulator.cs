using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

/// <summary>
/// A local emulator of the /api/v3 image API (GPT Proto and WaveSpeedAI routes) on a real Kestrel server bound to
/// 127.0.0.1: status progression with per-model latency, real PNG outputs at the catalog's pixel sizes, request
/// validation, auth checks, fault injection and a request log.
/// </summary>
public sealed partial class NanoBananaEmulator : IAsyncDisposable
{
    // GPT Proto's answer to a missing or wrong key.
    private const string InvalidSignature = """{"error":{"message":"Invalid signature","type":"401"}}""";

    private readonly WebApplication _app;
    private readonly EmulatorOptions _options;
    private readonly ConcurrentDictionary<string, JobRecord> _jobs = new();
    private readonly Queue<JobRecord> _jobOrder = new(); // oldest first: what MaxRetainedJobs drops (lock it to use)
    private readonly ConcurrentQueue<RequestRecord> _log = new();
    private readonly Dictionary<string, int> _jobsPerModel = new(StringComparer.OrdinalIgnoreCase);
    private readonly Random _random;
    private readonly object _gate = new();
    private int _accepted;
    private long _idCounter;

    private NanoBananaEmulator(WebApplication app, EmulatorOptions options)
    {
        _app = app;
        _options = options;
        _random = options.Seed is { } seed ? new Random(seed) : new Random();
    }

    /// <summary>The server root, e.g. <c>http://127.0.0.1:5123/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The API base URL to configure the client with: <c>http://127.0.0.1:5123/api/v3/</c>.</summary>
    public Uri ApiBaseUrl => new(BaseAddress, "api/v3/");

    /// <summary>The options.</summary>
    public EmulatorOptions Options => _options;

    /// <summary>Every request received, oldest first, each as it stood when this was read (a snapshot, as <see cref="Jobs"/>).</summary>
    public IReadOnlyList<EmulatorRequest> Requests => [.. _log.Select(r => r.Snapshot())];

    /// <summary>Submits that created a (billable) job.</summary>
    public int AcceptedSubmits => Volatile.Read(ref _accepted);

    /// <summary>The jobs created so far and still kept (see <see cref="EmulatorOptions.MaxRetainedJobs"/>).</summary>
    public IReadOnlyCollection<EmulatedJob> Jobs => [.. _jobs.Values.Select(j => j.ToView())];

    /// <summary>Looks up a job.</summary>
    public EmulatedJob? GetJob(string id) => _jobs.TryGetValue(id, out var job) ? job.ToView() : null;

    /// <summary>Clears the request log.</summary>
    public void ClearLog() => _log.Clear();

    // Ids may contain '/' (sent as %2F, which the server leaves encoded in route values) and ':'.
    private static string RouteId(HttpContext ctx) => Uri.UnescapeDataString((string)ctx.Request.RouteValues["id"]!);

    /// <summary>Starts an emulator on 127.0.0.1 (a free port unless <see cref="EmulatorOptions.Port"/> is set).</summary>
    public static async Task<NanoBananaEmulator> StartAsync(EmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmulatorOptions();
        CheckTimeScale(options.TimeScale, "EmulatorOptions.TimeScale", nameof(options));
        if (options.Problems().ToList() is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();

        // The emulator's server is configured here and nowhere else. The builder had read the app's appsettings.json and
        // ASPNETCORE_ variables, which are the app's: a Kestrel endpoint there made the emulator listen on the app's own
        // port (taking it, or failing the app), whatever EmulatorOptions.Port said.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(); // where the settings below go

        // The web host's default lifetime takes Ctrl+C and SIGTERM for the whole process and only stops the host: an app
        // that started an emulator could no longer be stopped with Ctrl+C (its server just went away), and the
        // standalone tool's net8.0 build never heard SIGTERM at all. The emulator is a part of someone else's process:
        // signals are the process's to handle, and the emulator stops when it is disposed.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        var app = builder.Build();
        var emulator = new NanoBananaEmulator(app, options);
        if (options.RequestDelay > TimeSpan.Zero)
        {
            // A network between client and service: every request reaches the handlers this much later (real time).
            var delay = options.RequestDelay;
            app.Use(async (ctx, next) =>
            {
                await Task.Delay(delay, ctx.RequestAborted).ConfigureAwait(false);
                await next(ctx).ConfigureAwait(false);
            });
        }

        app.MapPost("/api/v3/google/{model}/{action}", emulator.SubmitAsync);
        app.MapGet("/api/v3/predictions/{id}/result", emulator.PollAsync);
        app.MapPost("/api/v3/images", emulator.UnifiedSubmitAsync);
        app.MapGet("/api/v3/tasks/result/{id}", emulator.PollAsync);
        app.MapGet("/outputs/{id}/{index}", emulator.OutputAsync);
        app.MapGet("/api/v3/webhook/secret", emulator.WebhookSecretAsync);
        app.MapPost("/api/v3/media/upload/binary", emulator.UploadAsync);
        app.MapGet("/media/{token}/{name}", emulator.MediaAsync);
        // Off the caller's SynchronizationContext: the web host's own awaits would resume on it, and a UI thread that blocks
        // on the start (UseEmulator's factory does, resolving a client) would wait for itself.
        try
        {
            await Task.Run(() => app.StartAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A port in use, say: the web application built above is let go of here, not left to the finalizers.
            await emulator.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return emulator;
    }

    // A host lifetime that leaves the process's signals alone.
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>
    /// The largest time scale: 1000 makes a 20 s job take 5.6 hours, and larger ones run past what the client's catalog
    /// accepts as a typical latency (a day).
    /// </summary>
    public const double MaxTimeScale = 1000;

    private static void CheckTimeScale(double timeScale, string what, string parameter)
    {
        if (!(timeScale is > 0 and <= MaxTimeScale))
        {
            throw new ArgumentOutOfRangeException(parameter, timeScale, $"{what} must be above 0 and at most {MaxTimeScale.ToString(CultureInfo.InvariantCulture)} (got {timeScale.ToString(CultureInfo.InvariantCulture)}).");
        }
    }

    /// <summary>
    /// Points client options at this emulator: base URL, a key, and — when the emulator is time-scaled — the catalog
    /// latencies and poll intervals scaled the same way, so the client's schedule sees the same world in miniature.
    /// </summary>
    public NanoBananaOptions ConfigureClient(NanoBananaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.BaseUrl = ApiBaseUrl;
        options.ApiKey ??= _options.ApiKey ?? "emulator-key";
        ScaleClient(options, _options.TimeScale, _options.Catalog);
        return options;
    }

    /// <summary>
    /// Scales a client's catalog latencies and poll intervals by <paramref name="timeScale"/>, for an emulator running
    /// at that scale in another process (<c>nanobanana-emulator --time-scale</c>): without it the client would poll a
    /// 0.3 s job as if it took the real 3-6 s.
    /// </summary>
    /// <param name="options">The client options to change.</param>
    /// <param name="timeScale">The emulator's time scale, above 0 and at most <see cref="MaxTimeScale"/>.</param>
    /// <param name="catalog">The catalog the emulator runs (default: the built-in one).</param>
    public static NanoBananaOptions ScaleClient(NanoBananaOptions options, double timeScale, ModelCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckTimeScale(timeScale, nameof(timeScale), nameof(timeScale));
        if (Math.Abs(timeScale - 1.0) <= 1e-9)
        {
            return options;
        }

        foreach (var model in (catalog ?? ModelCatalog.Default).Models)
        {
            var key = model.Tier.ToString();
            if (!options.Catalog.Models.TryGetValue(key, out var o))
            {
                o = new ModelOverrideOptions();
                options.Catalog.Models[key] = o;
            }

            o.TypicalLatencyMinSeconds = model.TypicalLatencyMin.TotalSeconds * timeScale;
            o.TypicalLatencyMaxSeconds = model.TypicalLatencyMax.TotalSeconds * timeScale;
        }

        options.Polling.TargetMeanLag = TimeSpan.FromTicks(Math.Max(1, (long)(options.Polling.TargetMeanLag.Ticks * timeScale)));
        options.Polling.PollBudgetInterval *= timeScale;
        options.Polling.MinInterval = TimeSpan.FromTicks(Math.Max(1, (long)(options.Polling.MinInterval.Ticks * timeScale)));
        options.Polling.MaxInterval = TimeSpan.FromTicks(Math.Max(options.Polling.MinInterval.Ticks, (long)(options.Polling.MaxInterval.Ticks * timeScale)));
        return options;
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(cts.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_webhookClient.IsValueCreated)
        {
            _webhookClient.Value.Dispose();
        }

        _stopping.Dispose();
    }

    private static async Task<string> ReadBodyAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The webhook signing secret <c>GET webhook/secret</c> returns; deliveries are signed with it.</summary>
    public const string WebhookSecret = "whsec_emulator0123456789abcdef";

    private RequestRecord NewEntry(HttpContext ctx, string kind, string? body, string? model)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        var entry = new EmulatorRequest
        {
            Time = DateTimeOffset.UtcNow,
            Method = ctx.Request.Method,
            Path = (ctx.Request.Path.Value ?? "") + ctx.Request.QueryString.Value,
            ConnectionId = ctx.Connection.Id,
            Kind = kind,
            HasAuthorization = header.Length > 0,
            AuthorizationScheme = header.Length == 0 ? null : header.StartsWith("Bearer ", StringComparison.Ordinal) ? "Bearer" : "Raw",
            Body = body,
            Model = model,
        };
        var record = new RequestRecord(entry with { AuthorizationValid = entry.HasAuthorization && (_options.ApiKey is null || (header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : header) == _options.ApiKey) });
        _log.Enqueue(record);
        while (_log.Count > _options.MaxLogEntries && _log.TryDequeue(out _))
        {
        }

        return record;
    }

    // One JSON answer of a given status, recorded in the log entry.
    private static Task Answer(HttpContext ctx, RequestRecord entry, int status, string json)
    {
        entry.StatusCode = status;
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(json, ctx.RequestAborted);
    }

    // Timers have millisecond granularity and may round down: finish the wait precisely.
    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < timestamp)
        {
            var remaining = TimeSpan.FromSeconds((double)(timestamp - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
            await Task.Delay(remaining > TimeSpan.FromMilliseconds(1) ? remaining : TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    private static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];

    private static string Escape(string text) => JsonEncodedText.Encode(text).ToString();
}
