using System.Security.Cryptography;
using System.Text;

namespace NanoBanana;

/// <summary>File names made from text the caller does not control (a service's prediction id, a batch key).</summary>
internal static class FileNames
{
    // Longer names are cut (and hashed): file systems refuse segments past 255 bytes.
    private const int MaxStem = 100;

    /// <summary>
    /// <paramref name="text"/> as one path segment on every file system: characters some file system refuses, path
    /// separators and ':' become '_'; a name that changed, is empty, "." or "..", ends in a dot or a space, or is longer
    /// than 100 characters is cut and gets a short hash of the original, so distinct texts keep distinct names. Text that
    /// is already a safe name comes back unchanged.
    /// </summary>
    public static string Segment(string text)
    {
        var safe = new string([.. text.Select(c => c < ' ' || c is '"' or '*' or '<' or '>' or '?' or '|' or '/' or '\\' or ':' || Array.IndexOf(Invalid, c) >= 0 ? '_' : c)]);
        if (safe == text && safe.Length is > 0 and <= MaxStem && safe is not ("." or "..") && !safe.EndsWith('.') && !safe.EndsWith(' '))
        {
            return safe;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return (safe.Length > MaxStem ? safe[..MaxStem] : safe) + "-" + Convert.ToHexString(hash, 0, 4).ToLowerInvariant();
    }

    private static readonly char[] Invalid = Path.GetInvalidFileNameChars();
}
