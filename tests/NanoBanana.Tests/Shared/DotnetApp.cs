using System.Diagnostics;

namespace NanoBanana.Soak;

/// <summary>
/// Starts one of the repo's apps (the CLI, the emulator tool, a sample) from the dll built beside the tests or the
/// harness, as a newcomer would run it: output redirected, and no API key in its environment, so it never reaches a
/// real service by accident.
/// </summary>
internal static class DotnetApp
{
    public static ProcessStartInfo StartInfo(string dll, IEnumerable<string> args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment.Remove("NANOBANANA_API_KEY");
#if TEST_ON_NET8
        // The suite's .NET 8 run is self-contained (only the .NET 10 runtime is installed); an app it starts is the
        // net8.0 build, framework-dependent, so it runs on the installed runtime by rolling forward.
        start.Environment["DOTNET_ROLL_FORWARD"] = "Major";
#endif
        return start;
    }

    public static Process Start(string dll, IEnumerable<string> args, string? workingDirectory = null) =>
        Process.Start(StartInfo(dll, args, workingDirectory))!;
}
