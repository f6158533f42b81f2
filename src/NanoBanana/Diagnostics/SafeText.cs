namespace NanoBanana.Diagnostics;

/// <summary>
/// Text a service chose (a prediction id, a status, an error message), made safe to print: the rule the SDK applies to
/// its own messages, log lines and spans, for code of yours that prints such text (a console app, a web page's log).
/// Control characters and bidirectional overrides cannot then act on a terminal, forge log lines or reorder what is
/// read. Properties such as <c>PredictionId</c> keep the exact text; pass those, not these, to <c>ResumeAsync</c>.
/// </summary>
public static class SafeText
{
    /// <summary>
    /// <paramref name="text"/> with control characters (other than line feed and tab: escape sequences, bells, carriage
    /// returns) and bidirectional overrides replaced by U+FFFD, so that a service's text in a message, a log line or a
    /// terminal cannot act on the terminal, forge log lines or read in another order than it is stored.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Printable(string? text) => Replaced(text, oneLine: false);

    /// <summary>
    /// <paramref name="text"/> as <see cref="Printable"/> makes it, with line feeds and tabs replaced too: for a value
    /// such as a prediction id inside one log line, where a line break would start a forged line.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? OneLine(string? text) => Replaced(text, oneLine: true);

    /// <summary>The most characters of a service's value (an id, a status) that a message, a log line or a span shows.</summary>
    public const int MaxValueChars = 256;

    /// <summary>
    /// A service's single value (a prediction id, a status) as <see cref="OneLine"/> makes it, cut to
    /// <see cref="MaxValueChars"/> characters, so that a hostile id cannot bloat every message and log line that names
    /// it. The cut is in the middle ("…" between the first 192 characters and the last 63): ids that share a long start
    /// and differ at the end, as a counter or a random suffix makes them, still read apart in logs and spans. The exact
    /// value stays on the properties that carry it (<c>PredictionId</c>).
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Value(string? text)
    {
        var line = OneLine(text);
        if (line is not { Length: > MaxValueChars })
        {
            return line;
        }

        // Neither cut splits a surrogate pair (a character outside the BMP, such as an emoji): a half would be shown as '?'.
        var head = char.IsHighSurrogate(line[ValueHead - 1]) ? ValueHead - 1 : ValueHead;
        var tail = line.Length - (MaxValueChars - ValueHead - 1);
        tail += char.IsLowSurrogate(line[tail]) ? 1 : 0;
        return string.Concat(line.AsSpan(0, head), "…", line.AsSpan(tail));
    }

    private const int ValueHead = 192;

    /// <summary>
    /// <paramref name="text"/> as a double-quoted string literal that holds it exactly and is printable ASCII only: a
    /// quote and a backslash are escaped, and every character outside <c>' '</c>..<c>'~'</c> becomes <c>\uXXXX</c>.
    /// The literal reads the same in C#, JSON and JavaScript. Use it where a reader must copy a service's value
    /// exactly, such as the id in a "resume with" hint: <see cref="Value"/> is as safe but may cut or replace
    /// characters. Not bounded: a 5,000-character id gives a literal of at least 5,002.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public static string Quoted(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new System.Text.StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => builder.Append("\\\""),
                '\\' => builder.Append("\\\\"),
                >= ' ' and <= '~' => builder.Append(c),
                _ => builder.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)),
            };
        }

        return builder.Append('"').ToString();
    }

    private static string? Replaced(string? text, bool oneLine)
    {
        if (text is null || !text.Any(c => IsUnsafe(c, oneLine)))
        {
            return text;
        }

        return string.Create(text.Length, (text, oneLine), (span, state) =>
        {
            for (var i = 0; i < state.text.Length; i++)
            {
                span[i] = IsUnsafe(state.text[i], state.oneLine) ? '\uFFFD' : state.text[i];
            }
        });
    }

    private static bool IsUnsafe(char c, bool oneLine) =>
        (c < ' ' && (oneLine || c is not '\n' and not '\t')) || c is >= '\u007F' and <= '\u009F' || c is >= '\u202A' and <= '\u202E' || c is >= '\u2066' and <= '\u2069';
}
