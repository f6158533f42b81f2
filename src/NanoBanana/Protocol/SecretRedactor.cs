using System.Globalization;
using System.Text;

namespace NanoBanana.Protocol;

/// <summary>
/// The one place every string that came from the service passes through before it reaches an exception, a property,
/// a log or a span. It removes the API key in the forms a service can echo it: verbatim, JSON-escaped character by
/// character (<c>\u0073k-…</c>, <c>\/</c>), percent-encoded, and — at the end of a text cut short by a read limit —
/// its leading part. Callers redact first and truncate after, so a cut cannot leave part of a key behind.
/// </summary>
internal sealed class SecretRedactor
{
    /// <summary>What replaces a key.</summary>
    public const string Mask = "***";

    // A key's leading part at the very end of a cut text is masked from this many characters on.
    private const int MinTailPrefix = 4;

    // The keys to hide: the client's key, and after a key change every key it had before (an answer to a request that
    // left with the old key may still echo it).
    private readonly string[] _secrets;

    public SecretRedactor(string? secret)
        : this(string.IsNullOrEmpty(secret) ? [] : [secret])
    {
    }

    private SecretRedactor(string[] secrets)
    {
        _secrets = secrets;
    }

    /// <summary>A redactor with nothing to hide.</summary>
    public static SecretRedactor None { get; } = new((string?)null);

    /// <summary>
    /// A redactor that hides <paramref name="secret"/> as well as every key this one hides. The longest is removed first:
    /// a key that contains another would otherwise lose only that part, and the rest of it would show.
    /// </summary>
    public SecretRedactor With(string? secret) =>
        string.IsNullOrEmpty(secret) || _secrets.Contains(secret, StringComparer.Ordinal)
            ? this
            : new([.. _secrets.Append(secret).OrderByDescending(s => s.Length)]);

    /// <summary>Removes the keys from a text.</summary>
    /// <param name="text">The text (null passes through).</param>
    /// <param name="textWasCut">Whether the text was cut from something longer: a trailing leading part of a key is masked too.</param>
    public string? Redact(string? text, bool textWasCut = false)
    {
        foreach (var secret in _secrets)
        {
            text = RedactOne(text, secret, textWasCut);
        }

        return text;
    }

    private static string? RedactOne(string? text, string secret, bool textWasCut)
    {
        if (text is null || text.Length == 0)
        {
            return text;
        }

        StringBuilder? output = null;
        var copiedUpTo = 0;
        var i = 0;
        while (i < text.Length)
        {
            var matched = MatchAt(text, i, secret, out var partial);
            if (matched > 0 || (partial && textWasCut && text.Length - i >= Math.Min(MinTailPrefix, secret.Length)))
            {
                var length = matched > 0 ? matched : text.Length - i;
                output ??= new StringBuilder(text.Length);
                output.Append(text, copiedUpTo, i - copiedUpTo).Append(Mask);
                i += length;
                copiedUpTo = i;
                continue;
            }

            i++;
        }

        if (output is null)
        {
            return text;
        }

        output.Append(text, copiedUpTo, text.Length - copiedUpTo);
        return output.ToString();
    }

    // Matches the key at position start, each of its characters either literal or escaped. Returns the length of the
    // text matched (0 for no match); partial is true when the text ended in the middle of a match.
    private static int MatchAt(string text, int start, string secret, out bool partial)
    {
        partial = false;
        var position = start;
        foreach (var expected in secret)
        {
            if (position >= text.Length)
            {
                partial = position > start;
                return 0;
            }

            var consumed = MatchChar(text, position, expected, out var truncatedEscape);
            if (consumed == 0)
            {
                partial = truncatedEscape;
                return 0;
            }

            position += consumed;
        }

        return position - start;
    }

    // One character of the key at text[position]: literal, \uXXXX, \c (JSON's \/, \", \\), or %XX.
    private static int MatchChar(string text, int position, char expected, out bool truncatedEscape)
    {
        truncatedEscape = false;
        var c = text[position];
        if (c == expected)
        {
            return 1;
        }

        if (c == '\\')
        {
            if (position + 1 >= text.Length)
            {
                truncatedEscape = true;
                return 0;
            }

            var next = text[position + 1];
            if (next == expected && expected is '/' or '"' or '\\')
            {
                return 2;
            }

            if (next is 'u' or 'U')
            {
                if (position + 6 > text.Length)
                {
                    truncatedEscape = true;
                    return 0;
                }

                return int.TryParse(text.AsSpan(position + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) && code == expected ? 6 : 0;
            }

            return 0;
        }

        if (c == '%')
        {
            if (position + 3 > text.Length)
            {
                truncatedEscape = true;
                return 0;
            }

            return expected < 0x80 && int.TryParse(text.AsSpan(position + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) && code == expected ? 3 : 0;
        }

        return 0;
    }

    /// <summary>
    /// Service text made safe to show: the key removed (<see cref="Redact"/>), and characters that would act on a
    /// terminal or reorder what is read replaced (<see cref="Diagnostics.SafeText.Printable"/>).
    /// </summary>
    public string? Clean(string? text, bool textWasCut = false) => Diagnostics.SafeText.Printable(Redact(text, textWasCut));

    /// <summary>Cleans (<see cref="Clean"/>), then cuts to <paramref name="maxChars"/> characters (with an ellipsis when cut).</summary>
    public string Excerpt(string text, int maxChars, bool textWasCut)
    {
        var redacted = Clean(text, textWasCut)!;
        return redacted.Length <= maxChars ? redacted : string.Concat(redacted.AsSpan(0, maxChars), "…");
    }
}
