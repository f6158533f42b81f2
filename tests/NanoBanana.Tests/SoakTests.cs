using NanoBanana.Soak;
using Xunit.Abstractions;

namespace NanoBanana.Tests;

/// <summary>The soak runs alone (its own collection, not in parallel with other tests): it loads the machine, and timing-sensitive tests must not share it.</summary>
[CollectionDefinition(nameof(SoakCollection), DisableParallelization = true)]
public sealed class SoakCollection;

[Collection(nameof(SoakCollection))]
public class SoakTests(ITestOutputHelper output)
{
    // The emulator's defaults, two worlds unlike it (other latency shapes, executionTime reported, other spellings), and
    // one whose prediction ids carry escape sequences, line breaks, bidi overrides and path characters.
    public static TheoryData<string> Worlds() => [.. BatchTests.Worlds(), "hostile-ids"];

    [Theory]
    [MemberData(nameof(Worlds))]
    public async Task Short_fault_soak_loses_nothing_and_never_pays_twice(string world)
    {
        var report = await SoakRunner.RunAsync(jobs: 100, faultRate: 0.2, timeScale: 0.05, concurrency: 100, configure: o => BatchTests.World(o, world));
        output.WriteLine(report.ToString());
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.ExtraAcceptedSubmits);
        Assert.Equal(0, report.UnobservedExceptions);
        Assert.Equal(0, report.UntypedErrors);
        Assert.Equal(0, report.DeadlineOverruns);
        Assert.Equal(100, report.Completed + report.FailedTyped + report.CancelledAfterAcceptance + report.CancelledBeforeSending);
        Assert.True(report.CancelledAfterAcceptance + report.CancelledBeforeSending >= 10, $"at least 10% of jobs are cancelled: {report}");
        Assert.True(report.CancelledAfterAcceptance > 0, $"some cancellations must hit accepted jobs: {report}");
        Assert.Equal(0, report.ResumeLost);
        Assert.Equal(0, report.CancelledBeforeSendingButAccepted);
        Assert.Equal(0, report.KeyLeaks);
        Assert.Equal(0, report.UnsafeTexts);
        Assert.True(report.FaultedExchanges > 0, "the soak must actually inject faults");
        Assert.True(report.Completed > 50, $"most jobs should survive the faults: {report}");
    }
}
