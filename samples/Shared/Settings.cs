namespace NanoBanana.Samples;

/// <summary>
/// The samples' check of their settings before a client is built (one file, linked into the samples that build a
/// client themselves): a setting the library refuses, such as a NANOBANANA_API_KEY with a line break inside, is one
/// line on standard error and exit code 2, rather than an unhandled exception and a stack trace.
/// </summary>
internal static class Settings
{
    /// <summary>The exit code for settings the library refuses.</summary>
    public const int ErrorExitCode = 2;

    /// <summary>Whether <paramref name="options"/> are valid; if not, says why on standard error.</summary>
    public static bool Check(NanoBananaOptions options)
    {
        var problems = options.Validate();
        if (problems.Count == 0)
        {
            return true;
        }

        Console.Error.WriteLine($"Configuration error: {string.Join(" ", problems)}");
        return false;
    }
}
