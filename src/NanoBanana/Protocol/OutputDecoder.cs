namespace NanoBanana.Protocol;

/// <summary>Helpers for output payloads: base64 decoding and media type detection.</summary>
internal static class OutputDecoder
{
    public static byte[] DecodeBase64(string output)
    {
        var text = output.AsSpan();
        if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = text.IndexOf(',');
            text = comma >= 0 ? text[(comma + 1)..] : text;
        }

        try
        {
            return Convert.FromBase64String(text.ToString());
        }
        catch (FormatException ex)
        {
            throw new MalformedResponseException("An output is neither an http(s) URL nor valid base64.", ex);
        }
    }

    public static string? SniffMediaType(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        _ => null,
    };

    public static string MediaTypeFromPath(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".webp" => "image/webp",
        _ => "application/octet-stream",
    };
}
