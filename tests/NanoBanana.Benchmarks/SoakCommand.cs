using NanoBanana.Soak;

namespace NanoBanana.Benchmarks;

internal static class SoakCommand
{
    public static async Task<int> RunAsync(int jobs)
    {
        if (!SelectedWorld.TrySelect(out var world, out var configure))
        {
            return 2;
        }

        Console.WriteLine($"Fault soak: {jobs} jobs, 20% of exchanges hit by injected faults of every kind (hostile ones included), 15% of jobs cancelled, time scale 0.05, emulator {world ?? "defaults"}.");
        var report = await SoakRunner.RunAsync(jobs, faultRate: 0.2, timeScale: 0.05, concurrency: 200, configure: configure);
        Console.WriteLine(report);
        var ok = report.Lost == 0 && report.ExtraAcceptedSubmits == 0 && report.UnobservedExceptions == 0 && report.DeadlineOverruns == 0 && report.UntypedErrors == 0
            && report.ResumeLost == 0 && report.CancelledBeforeSendingButAccepted == 0 && report.KeyLeaks == 0 && report.UnsafeTexts == 0;
        Console.WriteLine(ok
            ? "goals met: nothing lost (every accepted-then-cancelled job the emulator completed normally was resumed to an image by its id), nothing paid twice, no unobserved exceptions, no deadline overrun, no key leak, no text that acts on a terminal"
            : "GOALS MISSED");
        return ok ? 0 : 1;
    }
}
