namespace NanoBanana.Protocol;

/// <summary>Helpers for output payloads: URL or inline, bounded base64 decoding and media type detection.</summary>
internal static class OutputDecoder
{
    /// <summary>
    /// Whether an output is a URL (any absolute URI with a scheme other than <c>data:</c>); inline base64 otherwise. With
    /// <paramref name="apiBase"/>, a reference relative to the API's origin counts too, resolved as a browser would:
    /// <c>/files/a.png</c> on the API's host, <c>//cdn.example/a.png</c> with the API's scheme (relays that answer with
    /// relative paths exist: GPT Proto's unified API sends its <c>polling_url</c> so). A bare base64 JPEG starts with
    /// <c>/9j/</c>, so text whose first characters decode to an image signature stays inline.
    /// </summary>
    public static bool LooksLikeUrl(string output, Uri? apiBase, out Uri uri)
    {
        if (output.Length < MaxUrlLength && !output.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            if (output.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(output, UriKind.Absolute, out var parsed))
            {
                uri = parsed;
                return true;
            }

            if (apiBase is { IsAbsoluteUri: true } && IsRelativeReference(output) && Resolve(apiBase, output) is { } resolved)
            {
                uri = resolved;
                return true;
            }
        }

        uri = null!;
        return false;
    }

    private const int MaxUrlLength = 8192;

    // A path from the root ("/…") or from the scheme ("//host/…"), printable and without spaces, that is not the start of a
    // base64 image.
    private static bool IsRelativeReference(string output) =>
        output.Length > 1
        && output[0] == '/'
        && !output.AsSpan().ContainsAnyExceptInRange('!', '~')
        && !StartsLikeInlineImage(output);

    private static bool StartsLikeInlineImage(string output)
    {
        var head = output.AsSpan(0, Math.Min(output.Length, 16) / 4 * 4);
        Span<byte> bytes = stackalloc byte[12];
        return head.Length > 0 && Convert.TryFromBase64Chars(head, bytes, out var written) && SniffMediaType(bytes[..written]) is not null;
    }

    private static Uri? Resolve(Uri apiBase, string reference)
    {
        // "//host/path" is spelled out with the API's scheme: some runtimes read it alone as a UNC file path.
        var resolved = reference.StartsWith("//", StringComparison.Ordinal)
            ? Uri.TryCreate(apiBase.Scheme + ":" + reference, UriKind.Absolute, out var u) ? u : null
            : Uri.TryCreate(apiBase, reference, out var r) ? r : null;
        return resolved is { Scheme: "https" or "http" } ? resolved : null;
    }

    /// <summary>
    /// Decodes an inline output: the encoded length is checked against the limit before any decoding, and the bytes
    /// must carry an image signature.
    /// </summary>
    /// <exception cref="ResponseLimitExceededException">The image would be larger than <paramref name="maxBytes"/>, the setting named <paramref name="limitName"/>.</exception>
    /// <exception cref="OutputUnavailableException">Not base64, or not an image.</exception>
    public static (byte[] Bytes, string MediaType) DecodeInline(string output, long maxBytes, string limitName, string? predictionId, int index)
    {
        var text = output.AsSpan();
        if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = text.IndexOf(',');
            text = comma >= 0 ? text[(comma + 1)..] : text;
        }

        text = text.Trim();
        var decodedMax = (text.Length / 4 * 3L) + 3;
        if (decodedMax - 3 > maxBytes)
        {
            throw new ResponseLimitExceededException(
                $"Output {index} of prediction {Diagnostics.SafeText.Value(predictionId) ?? "(unknown)"} is an inline image of about {decodedMax - 3} bytes, more than {limitName} ({maxBytes}). " +
                "It was not decoded. The prediction completed and may be billed: resume it with a larger limit instead of submitting again.")
            {
                PredictionId = predictionId,
                Limit = maxBytes,
                LimitName = limitName,
            };
        }

        var bytes = new byte[decodedMax];
        if (!Convert.TryFromBase64Chars(text, bytes, out var written))
        {
            throw Unavailable(predictionId, index, "it is neither a URL nor valid base64", null);
        }

        var image = bytes.AsSpan(0, written);
        var mediaType = SniffMediaType(image) ?? throw Unavailable(predictionId, index, "the decoded bytes are not an image (no PNG, JPEG, WebP or GIF signature)", null);
        return (written == bytes.Length ? bytes : image.ToArray(), mediaType);
    }

    /// <summary>The one way an output of a completed prediction is reported unavailable (decoding, URL policy, download).</summary>
    public static OutputUnavailableException Unavailable(string? predictionId, int index, string why, Exception? inner) =>
        new($"Output {index} of prediction {Diagnostics.SafeText.Value(predictionId) ?? "(unknown)"} is unavailable: {why}. The prediction completed and may be billed; it is not resubmitted.", inner)
        {
            PredictionId = predictionId,
            OutputIndex = index,
        };

    public static string? SniffMediaType(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "image/gif",
        _ => null,
    };
}
