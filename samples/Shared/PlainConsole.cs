using Spectre.Console;

namespace NanoBanana.Samples;

/// <summary>
/// The console for output that is piped or redirected (one file, linked into the samples that draw with Spectre.Console):
/// it is for scripts and logs, so no colour codes, no live displays, and lines as wide as <paramref name="width"/>
/// instead of the 80 columns Spectre assumes without a terminal.
/// </summary>
internal static class PlainConsole
{
    /// <summary>A console without ANSI codes or interaction, writing to <see cref="Console.Out"/>.</summary>
    public static IAnsiConsole Create(int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        console.Profile.Width = width;
        return console;
    }
}
