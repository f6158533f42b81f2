using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace NanoBanana.Emulator;

// Fault injection: scripted faults and replies, hostile bodies (drip, oversized), and the exchanges they spoil.
public sealed partial class NanoBananaEmulator
{
    private readonly List<(FaultKind Kind, FaultTarget Target)> _scripted = [];
    private readonly List<(EmulatorReply Reply, FaultTarget Target)> _replies = [];
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

    private Task SendReplyAsync(HttpContext ctx, RequestRecord entry, EmulatorReply reply, JobRecord? job)
    {
        if (job is not null)
        {
            job.Scripted = true;
        }

        var body = reply.Body
            .Replace("%ID%", job is null ? "" : reply.ContentType.Contains("json", StringComparison.OrdinalIgnoreCase) ? Escape(job.Id) : job.Id, StringComparison.Ordinal)
            .Replace("%ESCAPED_ID%", job is null ? "" : Uri.EscapeDataString(job.Id), StringComparison.Ordinal)
            .Replace("%OUTPUT%", job is null ? "" : OutputUrl(job), StringComparison.Ordinal)
            .Replace("%BASE%", BaseAddress.AbsoluteUri, StringComparison.Ordinal);
        entry.StatusCode = reply.StatusCode;
        ctx.Response.StatusCode = reply.StatusCode;
        ctx.Response.ContentType = reply.ContentType;
        return ctx.Response.WriteAsync(body, ctx.RequestAborted);
    }

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

            if (_options.FaultRate > 0 && (_options.RandomFaultTarget == FaultTarget.Any || _options.RandomFaultTarget == target) && _random.NextDouble() < _options.FaultRate)
            {
                // A rate with no kinds chosen draws from every kind: before, it injected nothing, silently.
                var kinds = _options.RandomFaults.Count > 0 ? _options.RandomFaults : AllFaultKinds;
                var candidates = kinds.Where(k => target == FaultTarget.Submit || CanHitPoll(k)).ToArray();
                return candidates.Length == 0 ? null : candidates[_random.Next(candidates.Length)];
            }

            return null;
        }
    }

    // The faults of a single exchange, shared by submits and polls (a submit decides separately whether the job was
    // created first).
    // acceptedId: the job a submit created before its answer was spoiled (null for a poll or a refused submit).
    private Task WriteExchangeFaultAsync(HttpContext ctx, RequestRecord entry, FaultKind fault, string malformedBody, string? acceptedId = null)
    {
        // What a spoiled answer begins with: a submit's names the job it created, as the real answer would.
        var start = acceptedId is null
            ? "{\"code\":200,\"message\":\"success\",\"data\":{\"status\":\"processing\","
            : "{\"code\":200,\"message\":\"success\",\"data\":{\"id\":\"" + Escape(acceptedId) + "\",\"status\":\"created\",";
        switch (fault)
        {
            case FaultKind.RateLimited:
                return Answer(ctx, entry, 429, """{"error":{"message":"Rate limit exceeded","code":"rate_limit_exceeded"}}""");
            case FaultKind.RateLimitedWithRetryAfter:
                ctx.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Answer(ctx, entry, 429, """{"error":"Too many requests, retry later"}""");
            case FaultKind.InternalError:
                return Answer(ctx, entry, 500, """{"error":{"message":"Internal server error","type":"500"}}""");
            case FaultKind.Unavailable:
                return Answer(ctx, entry, 503, """{"error":{"message":"Upstream unavailable","code":"service_unavailable"}}""");
            case FaultKind.DropConnection:
                entry.StatusCode = 0;
                ctx.Abort();
                return Task.CompletedTask;
            case FaultKind.MalformedJson:
                return Answer(ctx, entry, 200, malformedBody);
            case FaultKind.DripBody:
                entry.StatusCode = 200;
                ctx.Response.ContentType = "application/json";
                return DripAsync(ctx, Encoding.UTF8.GetBytes("{\"code\":200,\"message\":\"success\",\"data\":{\"status\":\"processing\"}}"));
            case FaultKind.OversizedBody:
                entry.StatusCode = 200;
                ctx.Response.ContentType = "application/json";
                return StreamFillerAsync(ctx, Encoding.UTF8.GetBytes(start + "\"padding\":\""), _options.OversizedBodyBytes, (byte)'x');
            case FaultKind.CutBody:
                entry.StatusCode = 200;
                return CutAsync(ctx, Encoding.UTF8.GetBytes(start + "\"outputs\":[],\"urls\":{\"get\":\"https://"));
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
        or FaultKind.Unavailable or FaultKind.DropConnection or FaultKind.MalformedJson or FaultKind.DripBody or FaultKind.OversizedBody or FaultKind.CutBody or FaultKind.Redirect;

    private static readonly FaultKind[] AllFaultKinds = Enum.GetValues<FaultKind>();

    // Faults a poll can draw: the single-exchange ones and the echoed key.
    private static bool CanHitPoll(FaultKind kind) => IsPollFault(kind) || kind == FaultKind.EchoKey;

    private static string? KeyOf(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        return header.Length == 0 ? null : header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : header;
    }

    private static readonly TimeSpan CutPause = TimeSpan.FromMilliseconds(250);

    // Sends the start of an answer (no Content-Length), then aborts the connection: the client reads a body that breaks off.
    private static async Task CutAsync(HttpContext ctx, byte[] start)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        try
        {
            await ctx.Response.Body.WriteAsync(start, ctx.RequestAborted).ConfigureAwait(false);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);

            // An abort resets the connection, and a reset that overtakes the bytes sent discards them unread on the
            // client's side: it would see no answer at all (DropConnection), not one that breaks off. So the start is
            // given time to be read first.
            await Task.Delay(CutPause, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client left first.
        }

        ctx.Abort();
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
}
