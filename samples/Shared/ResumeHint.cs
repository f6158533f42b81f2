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

    /// <summary>The CLI command, or null when the id cannot be typed into a shell as it is.</summary>
    public static string? Command(string id, string? model) =>
        id.Length > 0 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '/' or '-')
            ? $"nanobanana resume {id}{(model is null ? "" : $" --model {model}")}"
            : null;
}
