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
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

/// <summary>A prediction held by the emulator.</summary>
public sealed class EmulatedJob
{
    internal EmulatedJob(string id, ImageModel model, long createdTimestamp, long completeTimestamp, DateTimeOffset createdAt)
    {
        Id = id;
        Model = model;
        CreatedTimestamp = createdTimestamp;
        CompleteTimestamp = completeTimestamp;
        CreatedAt = createdAt;
    }

    /// <summary>The prediction id.</summary>
    public string Id { get; }

    /// <summary>Whether the job came through GPT Proto's unified images API (and is answered in its shape).</summary>
    public bool Unified { get; internal set; }

    /// <summary>The model.</summary>
    public ImageModel Model { get; }

    /// <summary>Stopwatch timestamp when the job was accepted.</summary>
    public long CreatedTimestamp { get; }

    /// <summary>Stopwatch timestamp when the job finishes (completed or failed).</summary>
    public long CompleteTimestamp { get; }

    /// <summary>Wall-clock creation time.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>How the job ends: "completed", "failed" or "never".</summary>
    public string Fate { get; internal set; } = "completed";

    /// <summary>The task error code of a failed job.</summary>
    public int? ErrorCode { get; internal set; }

    /// <summary>Output size.</summary>
    public PixelSize Pixels { get; internal set; }

    /// <summary>Outputs as base64.</summary>
    public bool Base64 { get; internal set; }

    /// <summary>The poll URL points to a foreign host.</summary>
    public bool ForeignPollUrl { get; internal set; }

    /// <summary>The hostile output this job completes with (<see cref="FaultKind.UndecodableOutput"/>, …), if any.</summary>
    public FaultKind? HostileOutput { get; internal set; }

    /// <summary>The key the caller sent with the submit, for <see cref="FaultKind.EchoKey"/>.</summary>
    internal string? EchoedKey { get; set; }

    /// <summary>A scripted reply spoke for this job: its outputs are served whatever its emulated timing.</summary>
    internal bool Scripted { get; set; }

    /// <summary>Polls received for this job.</summary>
    public int Polls => _polls;

    internal int _polls;

    /// <summary>Stopwatch timestamp of the first poll (or sync answer) that reported the job terminal; 0 if none yet.</summary>
    public long FirstTerminalReportTimestamp { get; internal set; }

    internal bool IsDone(long now) => Fate != "never" && now >= CompleteTimestamp;
}

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
    private readonly ConcurrentDictionary<string, EmulatedJob> _jobs = new();
    private readonly ConcurrentQueue<EmulatorRequest> _log = new();
    private readonly List<(FaultKind Kind, FaultTarget Target)> _scripted = [];
    private readonly List<(EmulatorReply Reply, FaultTarget Target)> _replies = [];
    private readonly Dictionary<string, int> _jobsPerModel = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(int, int, ImageTier), byte[]> _pngs = new();
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

    /// <summary>Every request received, oldest first.</summary>
    public IReadOnlyList<EmulatorRequest> Requests => [.. _log];

    /// <summary>Submits that created a (billable) job.</summary>
    public int AcceptedSubmits => Volatile.Read(ref _accepted);

    /// <summary>The jobs created so far.</summary>
    public IReadOnlyCollection<EmulatedJob> Jobs => [.. _jobs.Values];

    /// <summary>Looks up a job.</summary>
    public EmulatedJob? GetJob(string id) => _jobs.TryGetValue(id, out var job) ? job : null;

    /// <summary>Clears the request log.</summary>
    public void ClearLog() => _log.Clear();

    /// <summary>Injects the next <paramref name="count"/> faults of a kind on matching exchanges (deterministic, in order).</summary>
    public void EnqueueFault(FaultKind kind, FaultTarget target = FaultTarget.Any, int count = 1)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                _scripted.Add((kind, target));
            }
        }
    }

    /// <summary>Answers the next matching exchange with <paramref name="reply"/> verbatim (see <see cref="EmulatorReply"/>).</summary>
    public void EnqueueReply(EmulatorReply reply, FaultTarget target = FaultTarget.Any)
    {
        ArgumentNullException.ThrowIfNull(reply);
        lock (_gate)
        {
            _replies.Add((reply, target));
        }
    }

    private EmulatorReply? DrawReply(FaultTarget target)
    {
        lock (_gate)
        {
            var i = _replies.FindIndex(r => r.Target == target || (r.Target == FaultTarget.Any && target != FaultTarget.Upload));
            if (i < 0)
            {
                return null;
            }

            var reply = _replies[i].Reply;
            _replies.RemoveAt(i);
            return reply;
        }
    }

    private Task SendReplyAsync(HttpContext ctx, EmulatorRequest entry, EmulatorReply reply, EmulatedJob? job)
    {
        if (job is not null)
        {
            job.Scripted = true;
        }

        var body = reply.Body
            .Replace("%ID%", job?.Id ?? "", StringComparison.Ordinal)
            .Replace("%ESCAPED_ID%", job is null ? "" : Uri.EscapeDataString(job.Id), StringComparison.Ordinal)
            .Replace("%OUTPUT%", job is null ? "" : OutputUrl(job), StringComparison.Ordinal)
            .Replace("%BASE%", BaseAddress.AbsoluteUri, StringComparison.Ordinal);
        entry.StatusCode = reply.StatusCode;
        ctx.Response.StatusCode = reply.StatusCode;
        ctx.Response.ContentType = reply.ContentType;
        return ctx.Response.WriteAsync(body, ctx.RequestAborted);
    }

    private string OutputUrl(EmulatedJob job) => new Uri(BaseAddress, $"outputs/{Uri.EscapeDataString(job.Id)}/0.png").AbsoluteUri;

    // Ids may contain '/' (sent as %2F, which the server leaves encoded in route values) and ':'.
    private static string RouteId(HttpContext ctx) => Uri.UnescapeDataString((string)ctx.Request.RouteValues["id"]!);

    /// <summary>Starts an emulator on 127.0.0.1 (a free port unless <see cref="EmulatorOptions.Port"/> is set).</summary>
    public static async Task<NanoBananaEmulator> StartAsync(EmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmulatorOptions();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        var app = builder.Build();
        var emulator = new NanoBananaEmulator(app, options);
        app.MapPost("/api/v3/google/{model}/{action}", emulator.SubmitAsync);
        app.MapGet("/api/v3/predictions/{id}/result", emulator.PollAsync);
        app.MapPost("/api/v3/images", emulator.UnifiedSubmitAsync);
        app.MapGet("/api/v3/tasks/result/{id}", emulator.PollAsync);
        app.MapGet("/outputs/{id}/{index}", emulator.OutputAsync);
        app.MapGet("/api/v3/webhook/secret", emulator.WebhookSecretAsync);
        app.MapPost("/api/v3/media/upload/binary", emulator.UploadAsync);
        app.MapGet("/media/{token}/{name}", emulator.MediaAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return emulator;
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
        var scale = _options.TimeScale;
        if (Math.Abs(scale - 1.0) > 1e-9)
        {
            foreach (var model in _options.Catalog.Models)
            {
                var key = model.Tier.ToString();
                if (!options.Catalog.Models.TryGetValue(key, out var o))
                {
                    o = new ModelOverrideOptions();
                    options.Catalog.Models[key] = o;
                }

                o.TypicalLatencyMinSeconds = model.TypicalLatencyMin.TotalSeconds * scale;
                o.TypicalLatencyMaxSeconds = model.TypicalLatencyMax.TotalSeconds * scale;
            }

            options.Polling.TargetMeanLag = TimeSpan.FromTicks(Math.Max(1, (long)(options.Polling.TargetMeanLag.Ticks * scale)));
            options.Polling.PollBudgetInterval *= scale;
            options.Polling.MinInterval = TimeSpan.FromTicks(Math.Max(1, (long)(options.Polling.MinInterval.Ticks * scale)));
            options.Polling.MaxInterval = TimeSpan.FromTicks(Math.Max(options.Polling.MinInterval.Ticks, (long)(options.Polling.MaxInterval.Ticks * scale)));
        }

        return options;
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(cts.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<string> ReadBodyAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    // The per-model routes of GPT Proto and WaveSpeedAI: POST google/{model}/{action}.
    private async Task SubmitAsync(HttpContext ctx)
    {
        var modelSegment = (string)ctx.Request.RouteValues["model"]!;
        var action = (string)ctx.Request.RouteValues["action"]!;
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var entry = NewEntry(ctx, "submit", _options.LogBodies ? Truncate(body, 4096) : null, modelSegment);
        if (!entry.AuthorizationValid) // present and matching the expected key (see NewEntry)
        {
            await Error(ctx, entry, 401, InvalidSignature).ConfigureAwait(false);
            return;
        }

        var model = _options.UnknownModelIds.Contains(modelSegment) ? null : _options.Catalog.Find(modelSegment);
        if (model is null || action is not ("text-to-image" or "image-edit" or "edit"))
        {
            await Error(ctx, entry, 404, $$"""{"code":404,"message":"model or route not found: google/{{Escape(modelSegment)}}/{{Escape(action)}}","data":null}""").ConfigureAwait(false);
            return;
        }

        var isEdit = action is "image-edit" or "edit";
        var (request, problem) = Parse(body, model, isEdit);
        if (problem is not null)
        {
            await Error(ctx, entry, 400, "{\"error\":{\"message\":\"" + Escape(problem) + "\",\"code\":\"invalid_parameter\"}}").ConfigureAwait(false);
            return;
        }

        await AcceptAsync(ctx, entry, model, request, unified: false).ConfigureAwait(false);
    }

    // GPT Proto's unified images API: POST images, the model ("google/<id>") in the body, input_references for edits.
    private async Task UnifiedSubmitAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var slug = UnifiedModelSlug(body);
        var entry = NewEntry(ctx, "submit", _options.LogBodies ? Truncate(body, 4096) : null, slug);
        if (!entry.AuthorizationValid)
        {
            await Error(ctx, entry, 401, """{"code":401,"message":"Invalid API key","type":"error"}""").ConfigureAwait(false);
            return;
        }

        var model = slug is not null && slug.StartsWith("google/", StringComparison.Ordinal) && !_options.UnknownModelIds.Contains(slug["google/".Length..])
            ? _options.Catalog.Find(slug["google/".Length..]) : null;
        if (model is null)
        {
            await Error(ctx, entry, 400, $$"""{"code":400,"message":"model '{{Escape(slug ?? "")}}' is not supported","type":"error"}""").ConfigureAwait(false);
            return;
        }

        var (request, problem) = Parse(body, model, isEdit: false);
        if (problem is not null)
        {
            await Error(ctx, entry, 400, "{\"code\":400,\"message\":\"" + Escape(problem) + "\",\"type\":\"error\"}").ConfigureAwait(false);
            return;
        }

        await AcceptAsync(ctx, entry, model, request, unified: true).ConfigureAwait(false);
    }

    private static string? UnifiedModelSlug(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task AcceptAsync(HttpContext ctx, EmulatorRequest entry, ImageModel model, ParsedRequest request, bool unified)
    {
        if (UnfetchableUpload(request.ImageUrls) is { } missing)
        {
            await Error(ctx, entry, 400, "{\"code\":400,\"message\":\"input image could not be fetched: " + Escape(missing) + "\",\"data\":null}").ConfigureAwait(false);
            return;
        }

        if (DrawReply(FaultTarget.Submit) is { } reply)
        {
            EmulatedJob? scriptedJob = null;
            if (reply.AcceptsJob)
            {
                scriptedJob = CreateJob(model, request, unified);
                entry.Accepted = true;
                entry.PredictionId = scriptedJob.Id;
            }

            await SendReplyAsync(ctx, entry, reply, scriptedJob).ConfigureAwait(false);
            return;
        }

        var fault = DrawFault(FaultTarget.Submit);
        entry.Fault = fault;

        // Refused before acceptance: nothing is created, nothing billed.
        if (fault is FaultKind.RateLimited or FaultKind.RateLimitedWithRetryAfter or FaultKind.Unavailable or FaultKind.Redirect)
        {
            await WriteExchangeFaultAsync(ctx, entry, fault.Value, malformedBody: "").ConfigureAwait(false);
            return;
        }

        // From here on the job exists and is billable.
        var job = CreateJob(model, request, unified);
        entry.Accepted = true;
        entry.PredictionId = job.Id;
        switch (fault)
        {
            case FaultKind.JobFails:
                job.Fate = "failed";
                job.ErrorCode = 5000;
                break;
            case FaultKind.JobFailsModeration:
                job.Fate = "failed";
                job.ErrorCode = 1200;
                break;
            case FaultKind.JobNeverFinishes:
                job.Fate = "never";
                break;
            case FaultKind.ForeignPollUrl:
                job.ForeignPollUrl = true;
                break;
            case FaultKind.EchoKey:
                job.Fate = "failed";
                job.ErrorCode = 1401;
                job.EchoedKey = KeyOf(ctx);
                break;
            case FaultKind.UndecodableOutput or FaultKind.MetadataOutputUrl or FaultKind.NonImageOutput or FaultKind.HugeOutput or FaultKind.DripOutput or FaultKind.EmptyOutputs or FaultKind.RedirectOutput:
                job.HostileOutput = fault;
                break;
        }

        // Failing after acceptance: the job exists and is billed, the client cannot know it.
        if (fault is FaultKind.InternalError or FaultKind.DropConnection or FaultKind.MalformedJson or FaultKind.DripBody or FaultKind.OversizedBody)
        {
            await WriteExchangeFaultAsync(ctx, entry, fault.Value, malformedBody: "{\"code\":200,\"data\":{\"id\":\"" + job.Id + "\",\"status\":").ConfigureAwait(false);
            return;
        }

        switch (fault)
        {
            case FaultKind.SlowSubmit:
                try
                {
                    await Task.Delay(_options.SlowSubmitDelay, ctx.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    entry.StatusCode = 0;
                    return;
                }

                break;
        }

        if (request.Sync)
        {
            if (fault == FaultKind.GatewayTimeout)
            {
                await Error(ctx, entry, 504, "{\"code\":504,\"message\":\"Gateway Timeout\",\"data\":{\"id\":\"" + job.Id + "\"}}").ConfigureAwait(false);
                return;
            }

            if (fault != FaultKind.SyncTimeout)
            {
                var syncLimit = Stopwatch.GetTimestamp() + Ticks(_options.SyncModeTimeout.TotalSeconds * _options.TimeScale);
                await DelayUntilAsync(job.Fate == "never" ? syncLimit : Math.Min(job.CompleteTimestamp, syncLimit), ctx.RequestAborted).ConfigureAwait(false);
            }

            var now = Stopwatch.GetTimestamp();
            await Envelope(ctx, entry, job, now, syncTimeout: !job.IsDone(now)).ConfigureAwait(false);
            return;
        }

        if (unified)
        {
            await UnifiedAnswer(ctx, entry, job, Stopwatch.GetTimestamp(), submit: true).ConfigureAwait(false);
            return;
        }

        await Envelope(ctx, entry, job, Stopwatch.GetTimestamp(), syncTimeout: false).ConfigureAwait(false);
    }

    private async Task PollAsync(HttpContext ctx)
    {
        var id = RouteId(ctx);
        var entry = NewEntry(ctx, "poll", null, null);
        entry.PredictionId = id;
        if (!entry.AuthorizationValid) // present and matching the expected key (see NewEntry)
        {
            await Error(ctx, entry, 401, InvalidSignature).ConfigureAwait(false);
            return;
        }

        if (DrawReply(FaultTarget.Poll) is { } reply)
        {
            if (_jobs.TryGetValue(id, out var polled))
            {
                Interlocked.Increment(ref polled._polls);
            }

            await SendReplyAsync(ctx, entry, reply, polled).ConfigureAwait(false);
            return;
        }

        var fault = DrawFault(FaultTarget.Poll);
        entry.Fault = fault;
        var known = _jobs.TryGetValue(id, out var job);
        if (known)
        {
            Interlocked.Increment(ref job!._polls);
        }

        if (fault is { } f && IsPollFault(f))
        {
            await WriteExchangeFaultAsync(ctx, entry, f, malformedBody: "<html><body>502 Bad Gateway</body></html>").ConfigureAwait(false);
            return;
        }

        if (fault == FaultKind.EchoKey)
        {
            var key = KeyOf(ctx) ?? "";
            var escaped = string.Concat(key.Select(c => $"\\u{(int)c:x4}"));
            await Error(ctx, entry, 500, "{\"error\":{\"message\":\"upstream auth failed for " + escaped + "\",\"type\":\"500\"},\"debug\":\"" + new string('.', 500) + key + "\"}").ConfigureAwait(false);
            return;
        }

        if (!known)
        {
            await Error(ctx, entry, 404, """{"code":404,"message":"prediction not found","data":null}""").ConfigureAwait(false);
            return;
        }

        if (job!.Unified)
        {
            await UnifiedAnswer(ctx, entry, job, Stopwatch.GetTimestamp(), submit: false).ConfigureAwait(false);
            return;
        }

        await Envelope(ctx, entry, job, Stopwatch.GetTimestamp(), syncTimeout: false).ConfigureAwait(false);
    }

    private async Task OutputAsync(HttpContext ctx)
    {
        var id = RouteId(ctx);
        var entry = NewEntry(ctx, "output", null, null);
        entry.PredictionId = id;
        if (!_jobs.TryGetValue(id, out var job) || (!job.Scripted && (!job.IsDone(Stopwatch.GetTimestamp()) || job.Fate != "completed")))
        {
            await Error(ctx, entry, 404, """{"error":"output not found"}""").ConfigureAwait(false);
            return;
        }

        switch (job.HostileOutput)
        {
            case FaultKind.NonImageOutput:
                entry.StatusCode = 200;
                ctx.Response.ContentType = "text/html";
                await ctx.Response.WriteAsync("<html><body>Not an image. Log in to continue.</body></html>", ctx.RequestAborted).ConfigureAwait(false);
                return;
            case FaultKind.HugeOutput:
                entry.StatusCode = 200;
                ctx.Response.ContentType = "image/png";
                await StreamFillerAsync(ctx, PngWriter.Gradient(8, 8, (0, 0, 0), (255, 255, 255))[..16], _options.HugeOutputBytes).ConfigureAwait(false);
                return;
            case FaultKind.RedirectOutput when ctx.Request.Host.Host != "localhost" || _options.RedirectOutputToMetadata:
                entry.StatusCode = 302;
                ctx.Response.StatusCode = 302;
                ctx.Response.Headers.Location = ctx.Request.Host.Host != "localhost"
                    ? $"http://localhost:{BaseAddress.Port.ToString(CultureInfo.InvariantCulture)}{ctx.Request.Path}"
                    : "http://169.254.169.254/latest/meta-data/";
                return;
            case FaultKind.DripOutput:
                entry.StatusCode = 200;
                ctx.Response.ContentType = "image/png";
                await DripAsync(ctx, Png(job)).ConfigureAwait(false);
                return;
        }

        var png = Png(job);
        entry.StatusCode = 200;
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "image/png";
        ctx.Response.ContentLength = png.Length;
        await ctx.Response.Body.WriteAsync(png, ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The webhook signing secret <c>GET webhook/secret</c> returns (deliveries themselves are not emulated).</summary>
    public const string WebhookSecret = "whsec_emulator0123456789abcdef";

    private Task WebhookSecretAsync(HttpContext ctx)
    {
        var entry = NewEntry(ctx, "other", null, null);
        return entry.AuthorizationValid
            ? Raw(ctx, entry, 200, "{\"code\":200,\"message\":\"success\",\"data\":{\"secret\":\"" + WebhookSecret + "\"}}")
            : Error(ctx, entry, 401, InvalidSignature);
    }

    private sealed record ParsedRequest(string Prompt, ImageSize Size, AspectRatio Ratio, bool Sync, bool Base64, int Images)
    {
        public List<string> ImageUrls { get; } = [];
    }

    private static (ParsedRequest Request, string? Problem) Parse(string body, ImageModel model, bool isEdit)
    {
        var none = new ParsedRequest("", ImageSize.OneK, AspectRatio.Square, false, false, 0);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return (none, "request body is not valid JSON");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (none, "request body must be a JSON object");
            }

            var prompt = root.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            if (string.IsNullOrWhiteSpace(prompt))
            {
                return (none, "prompt is required");
            }

            var sizeText = root.TryGetProperty("size", out var s) ? s.GetString() : root.TryGetProperty("resolution", out var r) ? r.GetString() : null;
            var size = ImageSize.OneK;
            if (sizeText is not null && !ImageSize.TryParse(sizeText, out size))
            {
                return (none, $"unsupported size '{sizeText}'");
            }

            if (!model.Supports(size))
            {
                return (none, $"size {size} is not supported by {model.Id}");
            }

            var ratio = AspectRatio.Square;
            if (root.TryGetProperty("aspect_ratio", out var a) && a.ValueKind == JsonValueKind.String && !AspectRatio.TryParse(a.GetString(), out ratio))
            {
                return (none, $"unsupported aspect_ratio '{a.GetString()}'");
            }

            if (!model.Supports(ratio))
            {
                return (none, $"aspect_ratio {ratio} is not supported by {model.Id}");
            }

            var urls = new List<string>();
            if (root.TryGetProperty("images", out var im) && im.ValueKind == JsonValueKind.Array)
            {
                urls.AddRange(im.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
            }

            var images = im.ValueKind == JsonValueKind.Array ? im.GetArrayLength() : 0;
            if (root.TryGetProperty("input_references", out var refs) && refs.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in refs.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("image_url", out var iu) || iu.ValueKind != JsonValueKind.Object
                        || !iu.TryGetProperty("url", out var u) || u.ValueKind != JsonValueKind.String)
                    {
                        return (none, "input_references items must be {\"type\":\"image_url\",\"image_url\":{\"url\":\"…\"}}");
                    }

                    urls.Add(u.GetString()!);
                }

                images += refs.GetArrayLength();
            }

            if (isEdit && images == 0)
            {
                return (none, "images is required for an edit");
            }

            if (images > model.MaxReferenceImages)
            {
                return (none, $"too many images: {images} (max {model.MaxReferenceImages} for {model.Id})");
            }

            if (root.TryGetProperty("output_format", out var f) && f.GetString() is not ("png" or "jpeg"))
            {
                return (none, "output_format must be png or jpeg");
            }

            var sync = root.TryGetProperty("enable_sync_mode", out var sm) && sm.ValueKind == JsonValueKind.True;
            var b64 = root.TryGetProperty("enable_base64_output", out var bo) && bo.ValueKind == JsonValueKind.True;
            var parsed = new ParsedRequest(prompt, size, ratio, sync, b64, images);
            parsed.ImageUrls.AddRange(urls);
            return (parsed, null);
        }
    }

    private EmulatedJob CreateJob(ImageModel model, ParsedRequest request, bool unified)
    {
        double seconds;
        lock (_gate)
        {
            var index = _jobsPerModel.TryGetValue(model.Id, out var n) ? n : 0;
            _jobsPerModel[model.Id] = index + 1;
            var profile = _options.LatencyByModel.TryGetValue(model.Id, out var p) ? p : _options.Latency;
            seconds = _options.LatencySampler is { } sampler ? sampler(model, _random) : profile.Sample(model, _random, index);
        }

        var now = Stopwatch.GetTimestamp();
        var id = _options.IdPrefix + Interlocked.Increment(ref _idCounter).ToString("x6", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..8];
        var job = new EmulatedJob(id, model, now, now + Ticks(seconds * _options.TimeScale), DateTimeOffset.UtcNow)
        {
            Pixels = model.GetPixelSize(request.Size, request.Ratio),
            Base64 = request.Base64,
            Unified = unified,
        };
        _jobs[id] = job;
        Interlocked.Increment(ref _accepted);
        return job;
    }

    private Task Envelope(HttpContext ctx, EmulatorRequest entry, EmulatedJob job, long now, bool syncTimeout)
    {
        var done = job.IsDone(now);
        var status = done ? job.Fate : now - job.CreatedTimestamp < (job.CompleteTimestamp - job.CreatedTimestamp) / 10 ? "created" : "processing";
        if (done && job.FirstTerminalReportTimestamp == 0)
        {
            job.FirstTerminalReportTimestamp = now;
        }

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("code", 200);
            w.WriteString("message", "success");
            w.WriteStartObject("data");
            w.WriteString("id", job.Id);
            w.WriteString("model", "google/" + job.Model.Id);
            WriteOutputs(w, "outputs", job, done);
            var pollUrl = new Uri(job.ForeignPollUrl ? _options.ForeignPollBaseUrl : BaseAddress, $"api/v3/predictions/{Uri.EscapeDataString(job.Id)}/result").AbsoluteUri;
            if (_options.UrlsAsArray)
            {
                w.WriteStartArray("urls");
                w.WriteStartObject();
                w.WriteString("get", pollUrl);
                w.WriteEndObject();
                w.WriteEndArray();
            }
            else
            {
                w.WriteStartObject("urls");
                w.WriteString("get", pollUrl);
                w.WriteEndObject();
            }

            w.WriteString("status", status);
            if (syncTimeout)
            {
                w.WriteString("error", "Sync mode timed out");
                w.WriteNumber("code", 5004);
            }
            else if (done && job.Fate == "failed" && job.ErrorCode == 1200)
            {
                w.WriteStartObject("error");
                w.WriteNumber("code", 1200);
                w.WriteString("message", "The request was rejected by content moderation");
                w.WriteEndObject();
            }
            else if (done && job.Fate == "failed" && job.EchoedKey is { } key)
            {
                // The key verbatim and JSON-escaped character by character, as a careless upstream might echo it.
                w.WritePropertyName("error");
                w.WriteRawValue("\"upstream rejected the request for key " + key + " (" + string.Concat(key.Select(c => $"\\u{(int)c:x4}")) + ")\"");
                w.WriteNumber("code", job.ErrorCode ?? 1401);
            }
            else if (done && job.Fate == "failed")
            {
                w.WriteString("error", "Task failed: internal error");
                w.WriteNumber("code", job.ErrorCode ?? 5000);
            }
            else
            {
                w.WriteString("error", "");
            }

            if (_options.ReportExecutionTime)
            {
                var execMs = done ? (job.CompleteTimestamp - job.CreatedTimestamp) * 1000.0 / Stopwatch.Frequency : 0;
                w.WriteNumber("executionTime", Math.Round(execMs, 3));
                w.WriteStartObject("timings");
                w.WriteNumber("inference", Math.Round(execMs, 3));
                w.WriteEndObject();
            }
            if (done && job.Fate == "completed")
            {
                w.WriteStartArray("has_nsfw_contents");
                w.WriteBooleanValue(false);
                w.WriteEndArray();
            }
            else
            {
                w.WriteNull("has_nsfw_contents");
            }

            w.WriteString("created_at", _options.IsoTimestamps
                ? job.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "4Z"
                : job.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return SendJson(ctx, entry, 200, buffer);
    }

    // Sends a written JSON body with its length.
    private static Task SendJson(HttpContext ctx, EmulatorRequest entry, int status, MemoryStream buffer)
    {
        entry.StatusCode = status;
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = buffer.Length;
        return ctx.Response.Body.WriteAsync(buffer.GetBuffer(), 0, (int)buffer.Length, ctx.RequestAborted);
    }

    private void WriteOutputs(Utf8JsonWriter w, string name, EmulatedJob job, bool done)
    {
        w.WriteStartArray(name);
        if (done && job.Fate == "completed")
        {
            switch (job.HostileOutput)
            {
                case FaultKind.EmptyOutputs:
                    break;
                case FaultKind.UndecodableOutput:
                    w.WriteStringValue("iVBORw0KGgo%%%%not-base64%%%%");
                    break;
                case FaultKind.MetadataOutputUrl:
                    w.WriteStringValue("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
                    break;
                default:
                    w.WriteStringValue(job.Base64 && job.HostileOutput is null ? Convert.ToBase64String(Png(job)) : OutputUrl(job));
                    break;
            }
        }

        w.WriteEndArray();
    }

    // GPT Proto's unified shape: 202 {id, generation_id, polling_url, status: pending} on submit; on polls
    // {id, status (pending / in_progress / completed / failed), unsigned_urls, native_status, error}.
    private Task UnifiedAnswer(HttpContext ctx, EmulatorRequest entry, EmulatedJob job, long now, bool submit)
    {
        var done = !submit && job.IsDone(now);
        if (done && job.FirstTerminalReportTimestamp == 0)
        {
            job.FirstTerminalReportTimestamp = now;
        }

        var status = submit ? "pending" : done ? job.Fate : now - job.CreatedTimestamp < (job.CompleteTimestamp - job.CreatedTimestamp) / 10 ? "pending" : "in_progress";
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", job.Id);
            if (submit)
            {
                w.WriteString("generation_id", "gen-" + job.Id);
                w.WriteString("polling_url", "/api/v3/tasks/result/" + Uri.EscapeDataString(job.Id));
                w.WriteString("status", status);
            }
            else
            {
                w.WriteString("status", status);
                WriteOutputs(w, "unsigned_urls", job, done);
                w.WriteString("native_status", done ? (job.Fate == "completed" ? "SUCCEEDED" : "FAILED") : "RUNNING");
                if (done && job.Fate == "failed")
                {
                    w.WriteStartObject("error");
                    w.WriteNumber("code", job.ErrorCode ?? 5000);
                    w.WriteString("message", job.ErrorCode == 1200 ? "The request was rejected by content moderation" : "Task failed: internal error");
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteNull("error");
                }
            }

            w.WriteEndObject();
        }

        return SendJson(ctx, entry, submit ? 202 : 200, buffer);
    }

    private byte[] Png(EmulatedJob job) => _pngs.GetOrAdd((job.Pixels.Width, job.Pixels.Height, job.Model.Tier), key => key.Item3 switch
    {
        ImageTier.NanoBanana => PngWriter.Gradient(key.Item1, key.Item2, (255, 225, 53), (255, 170, 0)),
        ImageTier.NanoBanana2 => PngWriter.Gradient(key.Item1, key.Item2, (255, 140, 0), (200, 60, 20)),
        _ => PngWriter.Gradient(key.Item1, key.Item2, (110, 40, 170), (30, 10, 80)),
    });

    private FaultKind? DrawFault(FaultTarget target)
    {
        lock (_gate)
        {
            for (var i = 0; i < _scripted.Count; i++)
            {
                if (_scripted[i].Target == FaultTarget.Any || _scripted[i].Target == target)
                {
                    var kind = _scripted[i].Kind;
                    _scripted.RemoveAt(i);
                    return kind;
                }
            }

            if (_options.FaultRate > 0 && _options.RandomFaults.Count > 0 && _random.NextDouble() < _options.FaultRate)
            {
                var candidates = _options.RandomFaults.Where(k => target == FaultTarget.Submit || CanHitPoll(k)).ToArray();
                return candidates.Length == 0 ? null : candidates[_random.Next(candidates.Length)];
            }

            return null;
        }
    }

    // The faults of a single exchange, shared by submits and polls (a submit decides separately whether the job was
    // created first).
    private Task WriteExchangeFaultAsync(HttpContext ctx, EmulatorRequest entry, FaultKind fault, string malformedBody)
    {
        switch (fault)
        {
            case FaultKind.RateLimited:
                return Error(ctx, entry, 429, """{"error":{"message":"Rate limit exceeded","code":"rate_limit_exceeded"}}""");
            case FaultKind.RateLimitedWithRetryAfter:
                ctx.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Error(ctx, entry, 429, """{"error":"Too many requests, retry later"}""");
            case FaultKind.InternalError:
                return Error(ctx, entry, 500, """{"error":{"message":"Internal server error","type":"500"}}""");
            case FaultKind.Unavailable:
                return Error(ctx, entry, 503, """{"error":{"message":"Upstream unavailable","code":"service_unavailable"}}""");
            case FaultKind.DropConnection:
                entry.StatusCode = 0;
                ctx.Abort();
                return Task.CompletedTask;
            case FaultKind.MalformedJson:
                return Raw(ctx, entry, 200, malformedBody);
            case FaultKind.DripBody:
                entry.StatusCode = 200;
                ctx.Response.ContentType = "application/json";
                return DripAsync(ctx, Encoding.UTF8.GetBytes("{\"code\":200,\"message\":\"success\",\"data\":{\"status\":\"processing\"}}"));
            case FaultKind.OversizedBody:
                entry.StatusCode = 200;
                ctx.Response.ContentType = "application/json";
                return StreamFillerAsync(ctx, Encoding.UTF8.GetBytes("{\"code\":200,\"data\":{\"status\":\"processing\",\"padding\":\""), _options.OversizedBodyBytes, (byte)'x');
            case FaultKind.Redirect:
                entry.StatusCode = ctx.Request.Method == "POST" ? 307 : 302;
                ctx.Response.StatusCode = entry.StatusCode;
                ctx.Response.Headers.Location = $"http://localhost:{BaseAddress.Port.ToString(CultureInfo.InvariantCulture)}{ctx.Request.Path}{ctx.Request.QueryString}";
                return Task.CompletedTask;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, "Not a fault of a single exchange.");
        }
    }

    private static bool IsPollFault(FaultKind kind) => kind is FaultKind.RateLimited or FaultKind.RateLimitedWithRetryAfter or FaultKind.InternalError
        or FaultKind.Unavailable or FaultKind.DropConnection or FaultKind.MalformedJson or FaultKind.DripBody or FaultKind.OversizedBody or FaultKind.Redirect;

    // Faults a poll can draw: the single-exchange ones and the echoed key.
    private static bool CanHitPoll(FaultKind kind) => IsPollFault(kind) || kind == FaultKind.EchoKey;

    private static string? KeyOf(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        return header.Length == 0 ? null : header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : header;
    }

    // Sends a prefix, then one byte per DripInterval until the client leaves or DripDuration passes.
    private async Task DripAsync(HttpContext ctx, byte[] body)
    {
        ctx.Response.StatusCode = 200;
        var cut = Math.Min(8, body.Length);
        try
        {
            await ctx.Response.Body.WriteAsync(body.AsMemory(0, cut), ctx.RequestAborted).ConfigureAwait(false);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
            var until = Stopwatch.GetTimestamp() + Ticks(_options.DripDuration.TotalSeconds);
            for (var i = cut; Stopwatch.GetTimestamp() < until; i++)
            {
                await Task.Delay(_options.DripInterval, ctx.RequestAborted).ConfigureAwait(false);
                await ctx.Response.Body.WriteAsync(body.AsMemory(i % body.Length, 1), ctx.RequestAborted).ConfigureAwait(false);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client gave up: what a drip is for.
        }
    }

    // Streams a prefix then filler up to total bytes, chunked (no Content-Length), from one small buffer.
    private static async Task StreamFillerAsync(HttpContext ctx, byte[] prefix, long total, byte filler = 0)
    {
        ctx.Response.StatusCode = 200;
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, filler);
        try
        {
            await ctx.Response.Body.WriteAsync(prefix, ctx.RequestAborted).ConfigureAwait(false);
            for (var sent = (long)prefix.Length; sent < total; sent += chunk.Length)
            {
                await ctx.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, total - sent)), ctx.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client stopped reading: what a limit is for.
        }
    }

    private EmulatorRequest NewEntry(HttpContext ctx, string kind, string? body, string? model)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        var entry = new EmulatorRequest
        {
            Time = DateTimeOffset.UtcNow,
            Method = ctx.Request.Method,
            Path = (ctx.Request.Path.Value ?? "") + ctx.Request.QueryString.Value,
            Kind = kind,
            HasAuthorization = header.Length > 0,
            AuthorizationScheme = header.Length == 0 ? null : header.StartsWith("Bearer ", StringComparison.Ordinal) ? "Bearer" : "Raw",
            Body = body,
            Model = model,
        };
        entry = entry with { AuthorizationValid = entry.HasAuthorization && (_options.ApiKey is null || (header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : header) == _options.ApiKey) };
        _log.Enqueue(entry);
        while (_log.Count > _options.MaxLogEntries && _log.TryDequeue(out _))
        {
        }

        return entry;
    }

    private static Task Error(HttpContext ctx, EmulatorRequest entry, int status, string json)
    {
        entry.StatusCode = status;
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(json, ctx.RequestAborted);
    }

    private static Task Raw(HttpContext ctx, EmulatorRequest entry, int status, string text)
    {
        entry.StatusCode = status;
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(text, ctx.RequestAborted);
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
