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

    /// <summary>The CLI command, ready to paste into a shell: an id or model beyond plain characters is single-quoted.</summary>
    public static string Command(string id, string? model) =>
        $"nanobanana resume {ShellWord(id)}{(model is null ? "" : " --model " + ShellWord(model))}";

    /// <summary>A word to paste into a shell as it is: the service chose it, so anything beyond plain characters is single-quoted.</summary>
    public static string ShellWord(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/' or '=' or '@' or '+')
            ? text
            : "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
