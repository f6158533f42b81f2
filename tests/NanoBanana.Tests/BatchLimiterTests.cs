using System.Threading.RateLimiting;
using NanoBanana.Batch;

namespace NanoBanana.Tests;

/// <summary>The batch's limiters on a manual clock: the rolling window and the adaptive concurrency.</summary>
public class BatchLimiterTests
{
    [Fact]
    public async Task The_rolling_window_allows_the_limit_in_any_window_and_no_more()
    {
        var time = new ManualTimeProvider();
        using var limiter = new RollingWindowRateLimiter(3, TimeSpan.FromSeconds(10), time);
        for (var i = 0; i < 3; i++)
        {
            using var lease = await limiter.AcquireAsync();
            Assert.True(lease.IsAcquired);
        }

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(limiter.AttemptAcquire().IsAcquired);
        var fourth = limiter.AcquireAsync().AsTask();
        time.Advance(TimeSpan.FromSeconds(5.9));
        Assert.False(fourth.IsCompleted); // 9.9 s after the first three ended
        time.Advance(TimeSpan.FromSeconds(0.2));
        using var granted = await fourth.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(granted.IsAcquired);
        using var fifth = limiter.AttemptAcquire();
        using var sixth = limiter.AttemptAcquire();
        Assert.True(fifth.IsAcquired && sixth.IsAcquired);
        Assert.False(limiter.AttemptAcquire().IsAcquired); // three in the window again
    }

    [Fact]
    public async Task A_permit_counts_until_a_window_after_its_lease_ends()
    {
        var time = new ManualTimeProvider();
        using var limiter = new RollingWindowRateLimiter(1, TimeSpan.FromSeconds(10), time);
        var first = await limiter.AcquireAsync();
        var second = limiter.AcquireAsync().AsTask();
        time.Advance(TimeSpan.FromSeconds(20)); // the first submit is still in flight
        Assert.False(second.IsCompleted);
        first.Dispose(); // it ends at 20 s
        time.Advance(TimeSpan.FromSeconds(9.9));
        await Task.Delay(50); // the waiter wakes on the end (on the pool) and sets its timer on the manual clock
        Assert.False(second.IsCompleted);

        // Then in small steps, giving the waiter a turn after each: a timer it sets just after one big step would be
        // due after the last step and never fire (the race a single 0.2 s step had, once in a while). Up to 20 s of
        // them: on a loaded machine the waiter can work out its wait (10 s from the end) before the 9.9 s step above and set
        // its timer only after it, due 10 s after that step (CI once timed out 1 ms short with 10 s of steps).
        for (var i = 0; i < 400 && !second.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(0.05));
            await Task.Delay(5);
        }

        Assert.True((await second.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
    }

    [Fact]
    public async Task Concurrency_halves_on_429_and_grows_by_one_after_a_limit_of_acceptances()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(8);
        Assert.Equal(8, limiter.Limit);
        limiter.Decrease();
        limiter.Decrease();
        Assert.Equal(2, limiter.Limit);
        limiter.Decrease();
        limiter.Decrease();
        Assert.Equal(1, limiter.Limit); // never below 1

        var first = await limiter.AcquireAsync();
        var second = limiter.AcquireAsync().AsTask();
        Assert.False(second.IsCompleted);
        limiter.Increase(); // one acceptance at limit 1: the limit becomes 2 and the waiter gets its slot
        Assert.Equal(2, limiter.Limit);
        Assert.True((await second.WaitAsync(TimeSpan.FromSeconds(5))).IsAcquired);
        first.Dispose();
        Assert.Equal(1, limiter.InUse);
    }

    [Fact]
    public async Task A_cancelled_waiter_does_not_take_a_slot()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(1);
        var held = await limiter.AcquireAsync();
        using var cts = new CancellationTokenSource();
        var waiting = limiter.AcquireAsync(1, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();
        Assert.Equal(0, limiter.InUse);
        Assert.True(limiter.AttemptAcquire().IsAcquired);
    }
}
