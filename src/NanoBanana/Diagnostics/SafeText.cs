namespace NanoBanana.Diagnostics;

/// <summary>
/// Service text made safe to show in a message, a log line, a terminal or a span: control characters and bidirectional
/// overrides replaced by U+FFFD. The rule behind <see cref="Protocol.SecretRedactor.Printable"/> and
/// <see cref="Protocol.SecretRedactor.OneLine"/>, kept here so that telemetry (below the protocol) can use it too.
/// </summary>
internal static class SafeText
{
    /// <summary>Control characters other than line feed and tab, and bidirectional overrides, replaced.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Printable(string? text) => Replaced(text, oneLine: false);

    /// <summary>As <see cref="Printable"/>, with line feeds and tabs replaced too: for a value inside one line.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? OneLine(string? text) => Replaced(text, oneLine: true);

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
