using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using NanoBanana.DependencyInjection;
using NanoBanana.Emulator;
using NanoBanana.Extensions.AI;
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

/// <summary>
/// The Microsoft.Extensions.AI pipeline (logging and OpenTelemetry around the adapter) over a faulty emulator, with
/// callers that give up at random: every prediction the service accepted reaches the caller, as an image or as an id
/// an exception carries, except one whose submit answer never arrived readable, which the SDK reports as such.
/// </summary>
[Collection(nameof(SoakCollection))]
public class ImageGeneratorSoakTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_pipeline_loses_no_paid_prediction_under_faults_and_cancellations()
    {
        await using var emulator = await NanoBananaEmulator.StartAsync(new EmulatorOptions
        {
            TimeScale = 0.02, FaultRate = 0.3, Seed = 7, ApiKey = Emu.Key,
            SlowSubmitDelay = TimeSpan.FromSeconds(2), DripDuration = TimeSpan.FromSeconds(5), DripInterval = TimeSpan.FromMilliseconds(200),
        });
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddNanoBanana(o => { emulator.ConfigureClient(o); o.ApiKey = Emu.Key; o.Deadline = TimeSpan.FromSeconds(20); })
            .AddImageGenerator().UseLogging().UseOpenTelemetry();
        await using var provider = services.BuildServiceProvider();
        var generator = provider.GetRequiredService<IImageGenerator>();

        var reached = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var unknownOutcomes = 0;
        var random = new Random(3);
        var calls = Enumerable.Range(0, 40).Select(async i =>
        {
            int count, cancelAfter;
            lock (random)
            {
                (count, cancelAfter) = (random.Next(1, 4), random.Next(50, 3000));
            }

            using var cts = new CancellationTokenSource(cancelAfter);
            try
            {
                var response = await generator.GenerateAsync(new ImageGenerationRequest("a lamp " + i), new ImageGenerationOptions { Count = count, ModelId = "NanoBanana" }, cts.Token);
                Assert.Equal(count, response.Contents.Count);
                foreach (var result in response.RawRepresentation as ImageResult[] ?? [(ImageResult)response.RawRepresentation!])
                {
                    reached[result.PredictionId] = "image";
                }
            }
            catch (Exception ex)
            {
                var incomplete = ex as ImageGenerationIncompleteException ?? ex.InnerException as ImageGenerationIncompleteException;
                foreach (var failure in incomplete?.Failures ?? [ex])
                {
                    if (failure is SubmitOutcomeUnknownException)
                    {
                        Interlocked.Increment(ref unknownOutcomes);
                    }
                    else if (ImageGenerationIncompleteException.IdOf(failure) is { } id)
                    {
                        reached[id] = failure.GetType().Name;
                    }
                }

                foreach (var result in incomplete?.Completed ?? [])
                {
                    reached[result.PredictionId] = "image";
                }
            }
        });
        await Task.WhenAll(calls);

        var jobs = emulator.Jobs;
        var lost = jobs.Where(j => !reached.ContainsKey(j.Id)).Select(j => $"{j.Id} ({j.Fate}, {j.Polls} polls)").ToArray();
        output.WriteLine($"accepted {jobs.Count}, reached the caller {jobs.Count - lost.Length} ({reached.Values.Count(v => v == "image")} as images), submit outcome unknown {unknownOutcomes}, faulted exchanges {emulator.Requests.Count(r => r.Fault is not null)}");
        Assert.True(emulator.Requests.Any(r => r.Fault is not null), "the soak must actually inject faults");
        Assert.True(lost.Length <= unknownOutcomes, $"accepted predictions that reached the caller neither as an image nor as an id: {string.Join(", ", lost)} (unknown submit outcomes: {unknownOutcomes})");
        Assert.Equal(jobs.Count, emulator.AcceptedSubmits);
    }
}
