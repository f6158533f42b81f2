using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace NanoBanana.Emulator;

// WaveSpeedAI's binary upload for local reference images: POST media/upload/binary with one multipart part "file",
// answered with a download_url that serves the same bytes back. Submits that name an upload URL on this emulator
// which it never issued, or no longer holds (EmulatorOptions.MaxUploadRetentionBytes), are refused, as a provider
// refuses an input image it cannot fetch.
public sealed partial class NanoBananaEmulator
{
    /// <summary>WaveSpeedAI's documented size limit for image uploads: 20 MB.</summary>
    public const long MaxUploadBytes = 20L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, UploadedMedia> _uploads = new(StringComparer.Ordinal);

    // Upload tokens oldest first, and the bytes they hold: what MaxUploadRetentionBytes bounds.
    private readonly Queue<string> _uploadOrder = new();
    private long _uploadBytes;

    /// <summary>The files uploaded and still held (see <see cref="EmulatorOptions.MaxUploadRetentionBytes"/>), by the token in their download URL.</summary>
    public IReadOnlyDictionary<string, UploadedMedia> Uploads => _uploads;

    private async Task UploadAsync(HttpContext ctx)
    {
        var entry = NewEntry(ctx, "upload", null, null);
        if (!entry.AuthorizationValid)
        {
            await Answer(ctx, entry, 401, InvalidSignature).ConfigureAwait(false);
            return;
        }

        if (DrawReply(FaultTarget.Upload) is { } reply)
        {
            await SendReplyAsync(ctx, entry, reply, null).ConfigureAwait(false);
            return;
        }

        if (!ctx.Request.HasFormContentType)
        {
            await Answer(ctx, entry, 400, """{"code":400,"message":"expected multipart/form-data with a 'file' part","data":null}""").ConfigureAwait(false);
            return;
        }

        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted).ConfigureAwait(false);
        var file = form.Files.GetFile("file");
        if (file is null || file.Length == 0)
        {
            await Answer(ctx, entry, 400, """{"code":400,"message":"the 'file' part is missing or empty","data":null}""").ConfigureAwait(false);
            return;
        }

        if (file.Length > MaxUploadBytes)
        {
            await Answer(ctx, entry, 413, """{"code":413,"message":"file too large: images are limited to 20 MB","data":null}""").ConfigureAwait(false);
            return;
        }

        var bytes = new byte[file.Length];
        var stream = file.OpenReadStream();
        await using (stream.ConfigureAwait(false))
        {
            await stream.ReadExactlyAsync(bytes, ctx.RequestAborted).ConfigureAwait(false);
        }

        var mediaType = ImageTypeOf(bytes);
        if (mediaType is null)
        {
            await Answer(ctx, entry, 400, """{"code":400,"message":"unsupported file type: images must be JPG, PNG, WebP, GIF, BMP or TIFF","data":null}""").ConfigureAwait(false);
            return;
        }

        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var name = SafeName(file.FileName);
        Retain(token, new UploadedMedia(name, mediaType, bytes));
        var url = new Uri(BaseAddress, $"media/{token}/{Uri.EscapeDataString(name)}").AbsoluteUri;
        var size = bytes.Length.ToString(CultureInfo.InvariantCulture);
        var body = "{\"code\":200,\"message\":\"success\",\"data\":{\"type\":\"image\",\"download_url\":\"" + Escape(url)
            + "\",\"filename\":\"" + Escape(name) + "\",\"size\":" + size + "}}";
        await Answer(ctx, entry, 200, body).ConfigureAwait(false);
    }

    // Keeps the new upload and drops the oldest ones while the total is over the retention bound (the newest is always
    // kept, whatever its size: it was just promised to the caller).
    private void Retain(string token, UploadedMedia media)
    {
        lock (_uploadOrder)
        {
            _uploads[token] = media;
            _uploadOrder.Enqueue(token);
            _uploadBytes += media.Bytes.Length;
            while (_uploadBytes > _options.MaxUploadRetentionBytes && _uploadOrder.Count > 1)
            {
                if (_uploads.TryRemove(_uploadOrder.Dequeue(), out var dropped))
                {
                    _uploadBytes -= dropped.Bytes.Length;
                }
            }
        }
    }

    private Task MediaAsync(HttpContext ctx)
    {
        var entry = NewEntry(ctx, "media", null, null);
        var token = (string)ctx.Request.RouteValues["token"]!;
        if (!_uploads.TryGetValue(token, out var media))
        {
            return Answer(ctx, entry, 404, """{"error":"no such upload"}""");
        }

        entry.StatusCode = 200;
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = media.MediaType;
        ctx.Response.ContentLength = media.Bytes.Length;
        return ctx.Response.Body.WriteAsync(media.Bytes, ctx.RequestAborted).AsTask();
    }

    // An input URL on this emulator's media route must be one it issued.
    private string? UnfetchableUpload(IEnumerable<string> urls)
    {
        foreach (var text in urls)
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Authority == BaseAddress.Authority
                && url.AbsolutePath.StartsWith("/media/", StringComparison.Ordinal)
                && (url.Segments.Length < 3 || !_uploads.ContainsKey(url.Segments[2].TrimEnd('/'))))
            {
                return text;
            }
        }

        return null;
    }

    private static string SafeName(string? name)
    {
        var safe = new string(Path.GetFileName(name ?? "").Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_').ToArray());
        return safe.Length == 0 ? "upload" : safe;
    }

    private static string? ImageTypeOf(ReadOnlySpan<byte> b) => b switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "image/gif",
        [(byte)'B', (byte)'M', ..] => "image/bmp",
        [(byte)'I', (byte)'I', 42, 0, ..] or [(byte)'M', (byte)'M', 0, 42, ..] => "image/tiff",
        _ => null,
    };
}
