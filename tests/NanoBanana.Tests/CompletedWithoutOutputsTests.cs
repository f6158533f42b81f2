using NanoBanana.Emulator;
using NanoBanana.Polling;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

/// <summary>
/// A relay that marks a job completed before it lists the outputs (<see cref="FaultKind.LateOutputs"/>), over HTTP against
/// the emulator: the wait asks again (<see cref="PollingOptions.EmptyCompletionRechecks"/>) instead of failing a paid job
/// whose image exists, a bounded number of times and within the deadline, and never submits again.
/// </summary>
public class CompletedWithoutOutputsTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(false, false)] // polled, outputs as URLs
    [InlineData(false, true)] // polled, outputs inline
    [InlineData(true, false)] // sync mode: the submit's own answer lists none, a poll of its id does
    public async Task A_job_reported_completed_before_its_outputs_are_listed_ends_in_its_image(bool sync, bool base64)
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Polling.MinInterval = TimeSpan.FromMilliseconds(10));
        emulator.EnqueueFault(FaultKind.LateOutputs, FaultTarget.Submit);

        var result = await client.GenerateAsync(new ImageJob("a lamp") { UseSyncMode = sync, Base64Output = base64, AllowFallback = false }).WaitAsync(Guard);

        Assert.NotEmpty(await result.Images[0].GetBytesAsync().WaitAsync(Guard));
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);
        var job = emulator.GetJob(result.PredictionId)!;
        Assert.Equal(emulator.Options.LateOutputsAnswers + 1, job.CompletedAnswers); // two without outputs, then one with them, and no more
    }

    [Theory]
    [InlineData(3, 4, ", and listed none when polled 3 more times.")]
    [InlineData(1, 2, ", and listed none when polled once more.")]
    [InlineData(0, 1, "completed without outputs. A completed run")]
    public async Task A_job_that_stays_completed_without_outputs_fails_after_the_rechecks_and_is_not_sent_again(int rechecks, int answers, string said)
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o =>
        {
            o.Polling.MinInterval = TimeSpan.FromMilliseconds(10);
            o.Polling.EmptyCompletionRechecks = rechecks;
        });
        emulator.EnqueueFault(FaultKind.EmptyOutputs, FaultTarget.Submit);

        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard));

        Assert.Contains(said, ex.Message, StringComparison.Ordinal);
        Assert.Equal(PredictionStatus.Completed.Value, ex.Status);
        Assert.Equal(answers, emulator.GetJob(ex.PredictionId!)!.CompletedAnswers);
        Assert.Equal(1, emulator.Count("submit")); // not sent to another model: a completed run may be billed
    }

    [Fact]
    public async Task Outputs_later_than_the_rechecks_are_had_by_resuming_the_id_the_failure_names()
    {
        await using var emulator = await Emu.StartAsync(o => o.LateOutputsAnswers = 5);
        using var client = Emu.Client(emulator, o => o.Polling.MinInterval = TimeSpan.FromMilliseconds(10));
        emulator.EnqueueFault(FaultKind.LateOutputs, FaultTarget.Submit);

        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard));
        Assert.Contains("If its outputs are only late, resuming it gets them: client.ResumeAsync(", ex.Message, StringComparison.Ordinal);
        Assert.Equal(4, emulator.GetJob(ex.PredictionId!)!.CompletedAnswers);

        var result = await client.ResumeAsync(ex.PredictionId!).WaitAsync(Guard);
        Assert.NotEmpty(await result.Images[0].GetBytesAsync().WaitAsync(Guard));
        Assert.Equal(6, emulator.GetJob(ex.PredictionId!)!.CompletedAnswers);
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task While_a_wait_asks_again_the_operation_has_not_completed_and_has_no_failure_to_give()
    {
        await using var emulator = await Emu.StartAsync();
        var time = new ManualTimeProvider();
        using var client = Emu.Client(emulator, o => { o.Polling.MinInterval = TimeSpan.FromMilliseconds(250); o.Polling.MaxInterval = TimeSpan.FromSeconds(10); }, time: time);
        emulator.EnqueueFault(FaultKind.LateOutputs, FaultTarget.Submit);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp") { AllowFallback = false }).WaitAsync(Guard);
        var wait = operation.WaitForCompletionAsync();

        // Manual time stands still between steps: once an answer has said "completed" without outputs, the wait sleeps
        // until the recheck (MinInterval × 2, 0.5 s; a step is 0.05 s) and nothing moves.
        for (var t = TimeSpan.Zero; t < TimeSpan.FromMinutes(1) && operation.LatestPrediction is not { Status.IsCompleted: true }; t += TimeSpan.FromMilliseconds(50))
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(wait, Task.Delay(5));
        }

        Assert.Empty(operation.LatestPrediction!.Outputs);
        Assert.False(wait.IsCompleted);
        Assert.False(operation.HasCompleted);
        var early = Assert.Throws<InvalidOperationException>(() => operation.Value);
        Assert.Contains("reported completed without outputs, which are asked for again (NanoBanana:Polling:EmptyCompletionRechecks)", early.Message, StringComparison.Ordinal);

        await ClientTests.AdvanceUntilAsync(time, wait, TimeSpan.FromMinutes(1));
        var result = await wait;
        Assert.True(operation.HasCompleted);
        Assert.Same(result, operation.Value);
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_caller_that_polls_by_hand_asks_again_too_until_the_outputs_are_listed()
    {
        // UpdateStatusAsync until HasCompleted, as Azure-style operations are driven: the empty completion does not end it.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.LateOutputs, FaultTarget.Submit);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp") { AllowFallback = false }).WaitAsync(Guard);
        var checks = 0;
        while (!operation.HasCompleted && checks < 1000)
        {
            await operation.UpdateStatusAsync().WaitAsync(Guard);
            checks++;
        }

        Assert.NotEmpty(await operation.Value.Images[0].GetBytesAsync().WaitAsync(Guard));
        Assert.Equal(emulator.Options.LateOutputsAnswers + 1, emulator.GetJob(operation.Id)!.CompletedAnswers);
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task The_rechecks_end_before_the_deadline_rather_than_run_into_it()
    {
        // The client's clock is manual and advances 0.1 s per few real milliseconds: an exchange that takes real time (CI's
        // network worlds hold each request 20 or 150 ms) would spend the 2.5 s deadline by itself. This test is about
        // where the rechecks stop, so its exchanges are immediate.
        await using var emulator = await Emu.StartAsync(o => o.RequestDelay = TimeSpan.Zero);
        var time = new ManualTimeProvider();
        var deadline = TimeSpan.FromSeconds(2.5); // the rechecks, at 0.5, 1 and 2 s, would need 3.5 s after the first answer
        using var client = Emu.Client(emulator, o => { o.Deadline = deadline; o.Polling.MinInterval = TimeSpan.FromMilliseconds(250); o.Polling.MaxInterval = TimeSpan.FromSeconds(10); }, time: time);
        emulator.EnqueueFault(FaultKind.EmptyOutputs, FaultTarget.Submit);
        var start = time.GetTimestamp();
        var job = client.GenerateAsync(new ImageJob("a lamp"));

        await ClientTests.AdvanceUntilAsync(time, job, TimeSpan.FromMinutes(1));

        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => job); // not a timeout: the job did complete
        Assert.True(time.GetElapsedTime(start) < deadline, $"ended at {time.GetElapsedTime(start)}, the deadline being {deadline}");
        Assert.InRange(emulator.GetJob(ex.PredictionId!)!.CompletedAnswers, 1, 3);
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(9)]
    public void The_number_of_rechecks_is_bounded(int rechecks)
    {
        var options = new NanoBananaOptions { ApiKey = Emu.Key };
        options.Polling.EmptyCompletionRechecks = rechecks;
        var ex = Assert.ThrowsAny<ArgumentException>(() => new NanoBananaClient(options));
        Assert.Contains($"Polling:EmptyCompletionRechecks must be between 0 and 8 (got {rechecks})", ex.Message, StringComparison.Ordinal);
    }
}
