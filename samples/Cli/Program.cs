using NanoBanana.Cli;
using Spectre.Console;

// Piped or redirected output is for scripts: no colour codes and no wrapping at the terminal's width.
var console = Console.IsOutputRedirected
    ? AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
        Out = new AnsiConsoleOutput(Console.Out),
    })
    : AnsiConsole.Console;
if (Console.IsOutputRedirected)
{
    console.Profile.Width = 4096;
}

return await CliApp.RunAsync(args, console);
