using System.Diagnostics;

namespace NanoBanana.Tests;

/// <summary>The emulator's console app as a newcomer runs it: help, and argument errors without stack traces.</summary>
public class EmulatorAppTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "NanoBanana.Emulator.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Help_lists_the_options()
    {
        var (code, output, _) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Contains("--time-scale X", output);
        Assert.Contains("SIGTERM", output);
    }

    [Theory]
    [InlineData("--port", "abc", "--port must be a whole number from 0 to 65535")]
    [InlineData("--time-scale", "-1", "--time-scale must be a number above 0")]
    [InlineData("--fault-rate", "2", "--fault-rate must be a number from 0 to 1")]
    [InlineData("--colour", "red", "Unknown option '--colour'")]
    public async Task Bad_arguments_exit_2_with_a_message_and_no_stack_trace(string option, string value, string expected)
    {
        var (code, _, error) = await RunAsync(option, value);
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
    }
}
