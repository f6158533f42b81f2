namespace NanoBanana.Protocol;

/// <summary>Helpers for output payloads: URL or inline, bounded base64 decoding and media type detection.</summary>
internal static class OutputDecoder
{
    /// <summary>Whether an output is a URL (any absolute URI with a scheme other than <c>data:</c>); inline base64 otherwise.</summary>
    public static bool LooksLikeUrl(string output, out Uri uri)
    {
        if (!output.StartsWith("data:", StringComparison.OrdinalIgnoreCase)
            && output.Length < 8192
            && output.Contains("://", StringComparison.Ordinal)
            && Uri.TryCreate(output, UriKind.Absolute, out var parsed))
        {
            uri = parsed;
            return true;
        }

        uri = null!;
        return false;
    }

    /// <summary>
    /// Decodes an inline output: the encoded length is checked against the limit before any decoding, and the bytes
    /// must carry an image signature.
    /// </summary>
    /// <exception cref="ResponseLimitExceededException">The image would be larger than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="OutputUnavailableException">Not base64, or not an image.</exception>
    public static (byte[] Bytes, string MediaType) DecodeInline(string output, long maxBytes, string? predictionId, int index)
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
                $"Output {index} of prediction {Diagnostics.SafeText.Value(predictionId) ?? "(unknown)"} is an inline image of about {decodedMax - 3} bytes, more than NanoBanana:Limits:MaxImageBytes ({maxBytes}). " +
                "It was not decoded. The prediction completed and may be billed: resume it with a larger limit instead of submitting again.")
            {
                PredictionId = predictionId,
                Limit = maxBytes,
                LimitName = "NanoBanana:Limits:MaxImageBytes",
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
