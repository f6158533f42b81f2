using NanoBanana.Cli;
using NanoBanana.Emulator;
using Spectre.Console;

namespace NanoBanana.Tests;

/// <summary>The nanobanana CLI end to end against the emulator.</summary>
public class CliTests
{
    private static (IAnsiConsole Console, StringWriter Output) TestConsole()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        return (console, writer);
    }

    [Fact]
    public async Task Route_explains_the_decision_and_fails_clearly_when_nothing_fits()
    {
        var (console, output) = TestConsole();
        Assert.Equal(0, await CliApp.RunAsync(["route", "--ratio", "1:8", "--typography"], console));
        Assert.Contains("Chosen: Nano Banana 2", output.ToString());
        Assert.Contains("Nano Banana Pro would be preferred", output.ToString());

        var (console2, output2) = TestConsole();
        Assert.Equal(1, await CliApp.RunAsync(["route", "--faces", "5", "--grounding"], console2));
        var text = string.Join(" ", output2.ToString().Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Nano Banana 2: 5 face references exceed its limit of 4", text);
    }

    [Fact]
    public async Task Models_shows_ids_aliases_successors_and_retirement_dates()
    {
        var (console, output) = TestConsole();
        console.Profile.Width = 400;
        Assert.Equal(0, await CliApp.RunAsync(["models"], console));
        var lines = output.ToString().Split('\n');
        Assert.Contains(lines, l => l.Contains("Aliases") && l.Contains("Successor") && l.Contains("Retires"));
        Assert.Contains(lines, l => l.Contains("gemini-3-pro-image-preview") && l.Contains("nano-banana-pro") && l.Contains("gemini-3-pro-image ") && l.Contains("2026-06-25"));
        Assert.Contains(lines, l => l.Contains("gemini-3.1-flash-image-preview") && l.Contains("gemini-3.1-flash-image ") && l.Contains("2026-06-25"));
        Assert.Contains(lines, l => l.Contains("gemini-2.5-flash-image") && l.Contains("nano-banana") && l.Contains("2026-10-02"));
    }

    [Fact]
    public async Task Generate_and_resume_write_real_pngs_against_the_emulator()
    {
        await using var emulator = await Emu.StartAsync();
        var outDir = Path.Combine(Path.GetTempPath(), "nanobanana-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (console, output) = TestConsole();
            var code = await CliApp.RunAsync(["generate", "a jazz poster", "--size", "2K", "--ratio", "3:4", "--typography", "--out", outDir, "--base-url", emulator.ApiBaseUrl.ToString(), "--api-key", Emu.Key], console);
            Assert.True(code == 0, output.ToString());
            var file = Assert.Single(Directory.GetFiles(outDir, "*.png"));
            Assert.Equal((1792, 2400), PngWriter.ReadSize(File.ReadAllBytes(file)));
            Assert.Contains("Nano Banana Pro", output.ToString());

            var id = emulator.Jobs.Single().Id;
            File.Delete(file);
            var (console2, output2) = TestConsole();
            Assert.Equal(0, await CliApp.RunAsync(["resume", id, "--model", "NanoBananaPro", "--out", outDir, "--base-url", emulator.ApiBaseUrl.ToString(), "--api-key", Emu.Key], console2));
            Assert.True(File.Exists(Path.Combine(outDir, id + ".png")), output2.ToString());
            Assert.Equal(1, emulator.AcceptedSubmits);
        }
        finally
        {
            if (Directory.Exists(outDir))
            {
                Directory.Delete(outDir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Ctrl_C_after_acceptance_prints_the_id_and_the_resume_command_and_exits_130()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.01);
        emulator.EnqueueFault(FaultKind.JobNeverFinishes, FaultTarget.Submit); // still running when Ctrl+C comes
        var outDir = Path.Combine(Path.GetTempPath(), "nanobanana-cli-" + Guid.NewGuid().ToString("N"));
        var (console, output) = TestConsole();
        using var ctrlC = new CancellationTokenSource();
        var run = CliApp.RunAsync(["generate", "a fox", "--out", outDir, "--base-url", emulator.ApiBaseUrl.ToString(), "--api-key", Emu.Key], console, ctrlC.Token);
        while (emulator.Count("poll") == 0 && !run.IsCompleted) // a poll means the client holds the id
        {
            await Task.Delay(5);
        }

        ctrlC.Cancel();
        var code = await run.WaitAsync(TimeSpan.FromSeconds(60));
        var job = emulator.Jobs.Single();
        var text = output.ToString();
        Assert.True(code == CliApp.CancelledExitCode, text);
        Assert.True(text.Contains($"nanobanana resume {job.Id} --model {job.Model.Id}", StringComparison.Ordinal), text);
        Assert.False(Directory.Exists(outDir) && Directory.GetFiles(outDir).Length > 0);
    }
}
