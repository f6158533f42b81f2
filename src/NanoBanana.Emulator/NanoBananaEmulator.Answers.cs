using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace NanoBanana.Emulator;

// Answers: polls, sync answers and outputs, in each provider's shape; the PNGs the outputs serve.
public sealed partial class NanoBananaEmulator
{
    private string OutputUrl(JobRecord job)
    {
        var url = new Uri(BaseAddress, $"outputs/{Uri.EscapeDataString(job.Id)}/0.png");
        return _options.OutputUrls switch
        {
            OutputUrlForm.RootRelative => url.PathAndQuery,
            OutputUrlForm.SchemeRelative => "//" + url.Authority + url.PathAndQuery,
            _ => url.AbsoluteUri,
        };
    }

    private async Task PollAsync(HttpContext ctx)
    {
        var id = RouteId(ctx);
        var entry = NewEntry(ctx, "poll", null, null);
        entry.PredictionId = id;
        if (!entry.AuthorizationValid) // present and matching the expected key (see NewEntry)
        {
            await Answer(ctx, entry, 401, InvalidSignature).ConfigureAwait(false);
            return;
        }

        if (DrawReply(FaultTarget.Poll) is { } reply)
        {
            if (_jobs.TryGetValue(id, out var polled))
            {
                polled.CountPoll();
            }

            await SendReplyAsync(ctx, entry, reply, polled).ConfigureAwait(false);
            return;
        }

        var fault = DrawFault(FaultTarget.Poll);
        entry.Fault = fault;
        var known = _jobs.TryGetValue(id, out var job);
        if (known)
        {
            job!.CountPoll();
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
            await Answer(ctx, entry, 500, "{\"error\":{\"message\":\"upstream auth failed for " + escaped + "\",\"type\":\"500\"},\"debug\":\"" + new string('.', 500) + key + "\"}").ConfigureAwait(false);
            return;
        }

        if (!known)
        {
            await Answer(ctx, entry, 404, """{"code":404,"message":"prediction not found","data":null}""").ConfigureAwait(false);
            return;
        }

        if (job!.Unified)
        {
            await UnifiedAnswer(ctx, entry, job, Stopwatch.GetTimestamp(), submit: false).ConfigureAwait(false);
            return;
        }

        await Envelope(ctx, entry, job, Stopwatch.GetTimestamp(), syncTimeout: false, lean: _options.LeanPolls).ConfigureAwait(false);
    }

    private async Task OutputAsync(HttpContext ctx)
    {
        var id = RouteId(ctx);
        var entry = NewEntry(ctx, "output", null, null);
        entry.PredictionId = id;
        if (!_jobs.TryGetValue(id, out var job) || (!job.Scripted && (!job.IsDone(Stopwatch.GetTimestamp()) || job.Fate != JobFate.Completed)))
        {
            await Answer(ctx, entry, 404, """{"error":"output not found"}""").ConfigureAwait(false);
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
        if (_options.OutputContentType is not "")
        {
            ctx.Response.ContentType = _options.OutputContentType ?? "image/png";
        }

        ctx.Response.ContentLength = png.Length;
        await ctx.Response.Body.WriteAsync(png, ctx.RequestAborted).ConfigureAwait(false);
    }

    private Task WebhookSecretAsync(HttpContext ctx)
    {
        var entry = NewEntry(ctx, "other", null, null);
        return entry.AuthorizationValid
            ? Answer(ctx, entry, 200, "{\"code\":200,\"message\":\"success\",\"data\":{\"secret\":\"" + WebhookSecret + "\"}}")
            : Answer(ctx, entry, 401, InvalidSignature);
    }

    // submit: the answer to an async submit, which a queueing service gives before the job runs ("created"), however
    // short the job is; else a loaded machine could answer a job of a few scaled milliseconds as already done.
    private Task Envelope(HttpContext ctx, RequestRecord entry, JobRecord job, long now, bool syncTimeout, bool submit = false, bool lean = false)
    {
        var done = !submit && job.IsDone(now);
        var status = done ? (job.Fate == JobFate.Completed ? _options.CompletedStatus : _options.FailedStatus) : submit || now - job.CreatedTimestamp < (job.CompleteTimestamp - job.CreatedTimestamp) / 10 ? _options.QueuedStatus : _options.RunningStatus;
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
            w.WritePropertyName("data");
            WritePrediction(w, job, done, status, syncTimeout, lean);
            w.WriteEndObject();
        }

        return SendJson(ctx, entry, 200, buffer);
    }

    // The prediction object itself: the envelope's "data", and the whole body of a webhook delivery. Lean: only what
    // WaveSpeedAI's SDKs read (status, outputs, error and its code), as a relay that passes on no more would send.
    private void WritePrediction(Utf8JsonWriter w, JobRecord job, bool done, string status, bool syncTimeout, bool lean = false)
    {
        w.WriteStartObject();
        if (lean)
        {
            WriteOutputs(w, "outputs", job, done);
            w.WriteString("status", status);
            WriteError(w, job, done, syncTimeout);
            w.WriteEndObject();
            return;
        }

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
        WriteError(w, job, done, syncTimeout);
        if (job.AbsurdNumbers)
        {
            w.WriteNumber("executionTime", 9.3e15);
            w.WriteStartObject("timings");
            w.WriteString("inference", "Infinity");
            w.WriteEndObject();
        }
        else if (_options.ReportExecutionTime)
        {
            var execMs = done ? (job.CompleteTimestamp - job.CreatedTimestamp) * 1000.0 / Stopwatch.Frequency * _options.ExecutionTimeFactor : 0;
            w.WriteNumber("executionTime", Math.Round(execMs, 3));
            w.WriteStartObject("timings");
            w.WriteNumber("inference", Math.Round(execMs, 3));
            w.WriteEndObject();
        }
        if (done && job.Fate == JobFate.Completed)
        {
            w.WriteStartArray("has_nsfw_contents");
            w.WriteBooleanValue(false);
            w.WriteEndArray();
        }
        else
        {
            w.WriteNull("has_nsfw_contents");
        }

        w.WriteString("created_at", job.AbsurdNumbers ? "99999-12-31 23:59:59" : _options.IsoTimestamps
            ? job.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "4Z"
            : job.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }

    // The error and its code: a sync timeout, a failed job's reason, or "" while there is none.
    private static void WriteError(Utf8JsonWriter w, JobRecord job, bool done, bool syncTimeout)
    {
        if (syncTimeout)
        {
            w.WriteString("error", "Sync mode timed out");
            w.WriteNumber("code", 5004);
        }
        else if (done && job.Fate == JobFate.Failed && job.ErrorCode == 1200)
        {
            w.WriteStartObject("error");
            w.WriteNumber("code", 1200);
            w.WriteString("message", "The request was rejected by content moderation");
            w.WriteEndObject();
        }
        else if (done && job.Fate == JobFate.Failed && job.EchoedKey is { } key)
        {
            // The key verbatim and JSON-escaped character by character, as a careless upstream might echo it.
            w.WritePropertyName("error");
            w.WriteRawValue("\"upstream rejected the request for key " + key + " (" + string.Concat(key.Select(c => $"\\u{(int)c:x4}")) + ")\"");
            w.WriteNumber("code", job.ErrorCode ?? 1401);
        }
        else if (done && job.Fate == JobFate.Failed)
        {
            w.WriteString("error", "Task failed: internal error");
            w.WriteNumber("code", job.ErrorCode ?? 5000);
        }
        else
        {
            w.WriteString("error", "");
        }
    }

    // Sends a written JSON body with its length.
    private static Task SendJson(HttpContext ctx, RequestRecord entry, int status, MemoryStream buffer)
    {
        entry.StatusCode = status;
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = buffer.Length;
        return ctx.Response.Body.WriteAsync(buffer.GetBuffer(), 0, (int)buffer.Length, ctx.RequestAborted);
    }

    private void WriteOutputs(Utf8JsonWriter w, string name, JobRecord job, bool done)
    {
        w.WriteStartArray(name);
        if (done && job.Fate == JobFate.Completed)
        {
            var answer = job.CountCompletedAnswer();
            switch (job.HostileOutput)
            {
                case FaultKind.EmptyOutputs:
                    break;
                case FaultKind.LateOutputs when answer <= _options.LateOutputsAnswers:
                    break;
                case FaultKind.UndecodableOutput:
                    w.WriteStringValue("iVBORw0KGgo%%%%not-base64%%%%");
                    break;
                case FaultKind.MetadataOutputUrl:
                    w.WriteStringValue("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
                    break;
                default:
                    w.WriteStringValue(job.Base64 && job.HostileOutput is null or FaultKind.LateOutputs ? Convert.ToBase64String(Png(job)) : OutputUrl(job));
                    break;
            }
        }

        w.WriteEndArray();
    }

    // GPT Proto's unified shape: 202 {id, generation_id, polling_url, status: pending} on submit; on polls
    // {id, status (pending / in_progress / completed / failed), unsigned_urls, native_status, error}.
    private Task UnifiedAnswer(HttpContext ctx, RequestRecord entry, JobRecord job, long now, bool submit)
    {
        var done = !submit && job.IsDone(now);
        if (done && job.FirstTerminalReportTimestamp == 0)
        {
            job.FirstTerminalReportTimestamp = now;
        }

        var status = submit ? "pending" : done ? job.FateText : now - job.CreatedTimestamp < (job.CompleteTimestamp - job.CreatedTimestamp) / 10 ? "pending" : "in_progress";
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
                w.WriteString("native_status", done ? (job.Fate == JobFate.Completed ? "SUCCEEDED" : "FAILED") : "RUNNING");
                if (done && job.Fate == JobFate.Failed)
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
}
