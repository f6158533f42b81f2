using System.Globalization;
using System.Text;
using NanoBanana.Diagnostics;

namespace NanoBanana.Samples;

/// <summary>
/// How a sample tells its user to collect an accepted prediction, with the id exactly as the service sent it (one file,
/// linked into the samples that print such a hint).
/// </summary>
internal static class ResumeHint
{
    /// <summary>The C# call, with the id as an exact, printable literal (<see cref="SafeText.Quoted"/>).</summary>
    public static string Call(string id, string? model) =>
        $"await client.ResumeAsync({SafeText.Quoted(id)}{(model is null ? "" : $", \"{model}\"")})";

    /// <summary>The CLI command, ready to paste into a shell: an id or model beyond plain characters is quoted (<see cref="ShellWord"/>).</summary>
    public static string Command(string id, string? model) =>
        $"nanobanana resume {ShellWord(id)}{(model is null ? "" : " --model " + ShellWord(model))}";

    /// <summary>
    /// A word to paste into a shell as it is, always printable ASCII. The service chose it, so anything beyond plain
    /// characters is single-quoted; text with characters outside printable ASCII (an escape, a line break, a
    /// right-to-left override) is written in bash's and zsh's <c>$'…'</c> quoting, each such character as the
    /// <c>\xHH</c> escapes of its UTF-8 bytes. The hint then cannot act on the terminal that shows it and, pasted,
    /// gives back the text exactly, whatever the locale.
    /// </summary>
    public static string ShellWord(string text)
    {
        if (text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/' or '=' or '@' or '+'))
        {
            return text;
        }

        if (text.All(c => c is >= ' ' and <= '~'))
        {
            return "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
        }

        var word = new StringBuilder("$'", text.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b is (byte)'\\' or (byte)'\'')
            {
                word.Append('\\').Append((char)b);
            }
            else if (b is >= (byte)' ' and <= (byte)'~')
            {
                word.Append((char)b);
            }
            else
            {
                word.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
            }
        }

        return word.Append('\'').ToString();
    }
}
