using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

// Submits: GPT Proto's and WaveSpeedAI's per-model routes and the unified images API; validation, then a job.
public sealed partial class NanoBananaEmulator
{
    // The per-model routes of GPT Proto and WaveSpeedAI: POST google/{model}/{action}.
    private async Task SubmitAsync(HttpContext ctx)
    {
        var modelSegment = (string)ctx.Request.RouteValues["model"]!;
        var action = (string)ctx.Request.RouteValues["action"]!;
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var entry = NewEntry(ctx, "submit", _options.LogBodies ? Truncate(body, 4096) : null, modelSegment);
        if (!entry.AuthorizationValid) // present and matching the expected key (see NewEntry)
        {
            await Answer(ctx, entry, 401, InvalidSignature).ConfigureAwait(false);
            return;
        }

        var model = _options.UnknownModelIds.Contains(modelSegment) ? null : _options.Catalog.Find(modelSegment);
        if (model is null || action is not ("text-to-image" or "image-edit" or "edit"))
        {
            await Answer(ctx, entry, 404, $$"""{"code":404,"message":"model or route not found: google/{{Escape(modelSegment)}}/{{Escape(action)}}","data":null}""").ConfigureAwait(false);
            return;
        }

        var isEdit = action is "image-edit" or "edit";
        var (request, problem) = Parse(body, model, isEdit);
        if (problem is not null)
        {
            await Answer(ctx, entry, 400, "{\"error\":{\"message\":\"" + Escape(problem) + "\",\"code\":\"invalid_parameter\"}}").ConfigureAwait(false);
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
            await Answer(ctx, entry, 401, """{"code":401,"message":"Invalid API key","type":"error"}""").ConfigureAwait(false);
            return;
        }

        var model = slug is not null && slug.StartsWith("google/", StringComparison.Ordinal) && !_options.UnknownModelIds.Contains(slug["google/".Length..])
            ? _options.Catalog.Find(slug["google/".Length..]) : null;
        if (model is null)
        {
            await Answer(ctx, entry, 400, $$"""{"code":400,"message":"model '{{Escape(slug ?? "")}}' is not supported","type":"error"}""").ConfigureAwait(false);
            return;
        }

        var (request, problem) = Parse(body, model, isEdit: false);
        if (problem is not null)
        {
            await Answer(ctx, entry, 400, "{\"code\":400,\"message\":\"" + Escape(problem) + "\",\"type\":\"error\"}").ConfigureAwait(false);
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

    private async Task AcceptAsync(HttpContext ctx, RequestRecord entry, ImageModel model, ParsedRequest request, bool unified)
    {
        var (webhook, webhookProblem) = WebhookOf(ctx, request.Base64);
        if (webhookProblem is not null)
        {
            await Answer(ctx, entry, 400, "{\"code\":400,\"message\":\"" + Escape(webhookProblem) + "\",\"data\":null}").ConfigureAwait(false);
            return;
        }

        if (UnfetchableUpload(request.ImageUrls) is { } missing)
        {
            await Answer(ctx, entry, 400, "{\"code\":400,\"message\":\"input image could not be fetched: " + Escape(missing) + "\",\"data\":null}").ConfigureAwait(false);
            return;
        }

        if (DrawReply(FaultTarget.Submit) is { } reply)
        {
            JobRecord? scriptedJob = null;
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

        // The account's limits: a submit beyond them is refused with 429, nothing created, nothing billed.
        if (!TryAdmit(model, request, unified, out var job, out var refusal))
        {
            ctx.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(_options.AccountLimits!.Window.TotalSeconds * _options.TimeScale / 4)).ToString(CultureInfo.InvariantCulture);
            await Answer(ctx, entry, 429, "{\"code\":429,\"message\":\"" + refusal + "\",\"data\":null}").ConfigureAwait(false);
            return;
        }

        // From here on the job exists and is billable.
        entry.Accepted = true;
        entry.PredictionId = job.Id;
        switch (fault)
        {
            case FaultKind.JobFails:
                job.Fate = JobFate.Failed;
                job.ErrorCode = 5000;
                break;
            case FaultKind.JobFailsModeration:
                job.Fate = JobFate.Failed;
                job.ErrorCode = 1200;
                break;
            case FaultKind.JobNeverFinishes:
                job.Fate = JobFate.Never;
                break;
            case FaultKind.ForeignPollUrl:
                job.ForeignPollUrl = true;
                break;
            case FaultKind.EchoKey:
                job.Fate = JobFate.Failed;
                job.ErrorCode = 1401;
                job.EchoedKey = KeyOf(ctx);
                break;
            case FaultKind.AbsurdNumbers:
                job.AbsurdNumbers = true;
                break;
            case FaultKind.UndecodableOutput or FaultKind.MetadataOutputUrl or FaultKind.NonImageOutput or FaultKind.HugeOutput or FaultKind.DripOutput or FaultKind.EmptyOutputs or FaultKind.RedirectOutput or FaultKind.LateOutputs:
                job.HostileOutput = fault;
                break;
        }

        // The webhook is sent whatever happens to this exchange: the job runs and finishes either way.
        ScheduleWebhook(job, webhook);

        // Failing after acceptance: the job exists and is billed, the client cannot know it.
        if (fault is FaultKind.InternalError or FaultKind.DropConnection or FaultKind.MalformedJson or FaultKind.DripBody or FaultKind.OversizedBody or FaultKind.CutBody)
        {
            await WriteExchangeFaultAsync(ctx, entry, fault.Value, malformedBody: "{\"code\":200,\"data\":{\"id\":\"" + Escape(job.Id) + "\",\"status\":", acceptedId: job.Id).ConfigureAwait(false);
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
                await Answer(ctx, entry, 504, "{\"code\":504,\"message\":\"Gateway Timeout\",\"data\":{\"id\":\"" + Escape(job.Id) + "\"}}").ConfigureAwait(false);
                return;
            }

            if (fault != FaultKind.SyncTimeout)
            {
                var syncLimit = Stopwatch.GetTimestamp() + Ticks(_options.SyncModeTimeout.TotalSeconds * _options.TimeScale);
                await DelayUntilAsync(job.Fate == JobFate.Never ? syncLimit : Math.Min(job.CompleteTimestamp, syncLimit), ctx.RequestAborted).ConfigureAwait(false);
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

        await Envelope(ctx, entry, job, Stopwatch.GetTimestamp(), syncTimeout: false, submit: true).ConfigureAwait(false);
    }

    private sealed record ParsedRequest(string Prompt, ImageSize Size, AspectRatio Ratio, bool Sync, bool Base64, int Images)
    {
        public List<string> ImageUrls { get; } = [];
    }

    private JobRecord CreateJob(ImageModel model, ParsedRequest request, bool unified)
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
        var job = new JobRecord(id, model, now, now + Ticks(seconds * _options.TimeScale), DateTimeOffset.UtcNow)
        {
            Pixels = model.GetPixelSize(request.Size, request.Ratio),
            Prompt = request.Prompt,
            Size = request.Size,
            Ratio = request.Ratio,
            Base64 = request.Base64,
            Unified = unified,
        };
        lock (_jobOrder)
        {
            _jobs[id] = job;
            _jobOrder.Enqueue(job);
            DropExpiredJobs(now);
        }

        Interlocked.Increment(ref _accepted);
        return job;
    }

    // Past MaxRetainedJobs, drops the oldest finished predictions (as a service lets them expire). A job still running
    // (or one that never finishes) is kept and looked at again later: a poll must never find a running job gone.
    private void DropExpiredJobs(long now)
    {
        var looks = _jobOrder.Count;
        while (_jobs.Count > Math.Max(1, _options.MaxRetainedJobs) && looks-- > 0 && _jobOrder.TryDequeue(out var oldest))
        {
            if (oldest.IsDone(now))
            {
                _jobs.TryRemove(oldest.Id, out _);
            }
            else
            {
                _jobOrder.Enqueue(oldest);
            }
        }
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
}
