using System.Security.Cryptography;
using System.Text;

namespace NanoBanana;

/// <summary>File names made from text the caller does not control (a service's prediction id, a batch key).</summary>
internal static class FileNames
{
    // Longer names are cut (and hashed): file systems refuse segments past 255 bytes, and a character can take up to
    // four bytes in UTF-8, so the bound is on bytes, leaving room for the hash, an index and an extension.
    private const int MaxStemBytes = 100;

    /// <summary>
    /// <paramref name="text"/> as one path segment on every file system: characters some file system refuses, path
    /// separators and ':' become '_'; a name that changed, is empty, "." or "..", ends in a dot or a space, or takes more
    /// than 100 bytes in UTF-8 is cut and gets a short hash of the original, so distinct texts keep distinct names. Text
    /// that is already a safe name comes back unchanged.
    /// </summary>
    public static string Segment(string text)
    {
        var safe = new string([.. text.Select(c => c < ' ' || c is '"' or '*' or '<' or '>' or '?' or '|' or '/' or '\\' or ':' || Array.IndexOf(Invalid, c) >= 0 ? '_' : c)]);
        var fits = Encoding.UTF8.GetByteCount(safe) <= MaxStemBytes;
        if (safe == text && safe.Length > 0 && fits && safe is not ("." or "..") && !safe.EndsWith('.') && !safe.EndsWith(' '))
        {
            return safe;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return (fits ? safe : Cut(safe)) + "-" + Convert.ToHexString(hash, 0, 4).ToLowerInvariant();
    }

    // The longest start of the text within MaxStemBytes of UTF-8, in whole characters (a surrogate pair is not split; a
    // lone surrogate counts as the three bytes of the U+FFFD it is written as).
    private static string Cut(string text)
    {
        var bytes = 0;
        var end = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > MaxStemBytes)
            {
                break;
            }

            bytes += rune.Utf8SequenceLength;
            end += rune.Utf16SequenceLength;
        }

        return text[..end];
    }

    private static readonly char[] Invalid = Path.GetInvalidFileNameChars();
}
