using NanoBanana.Cli;
using NanoBanana.Samples;
using Spectre.Console;

// Piped or redirected output is for scripts: no colour codes and no wrapping at the terminal's width.
var console = Console.IsOutputRedirected ? PlainConsole.Create(width: 4096) : AnsiConsole.Console;

return await CliApp.RunAsync(args, console);
