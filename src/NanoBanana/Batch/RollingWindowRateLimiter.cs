using System.Threading.RateLimiting;

namespace NanoBanana.Batch;

/// <summary>
/// At most <c>permitLimit</c> permits in any window of the given length. A permit counts from its grant until one
/// window after its lease is disposed: hold the lease for the whole submit exchange, and the service, whenever
/// within that exchange it counts the submit, never sees more than the limit in any window (a fixed window would
/// allow twice the limit across a boundary, and counting from the grant alone lets network jitter through).
/// Waiters are served in turn.
/// </summary>
public sealed class RollingWindowRateLimiter : RateLimiter
{
    private readonly int _limit;
    private readonly TimeSpan _window;
    private readonly TimeProvider _time;
    private readonly List<Permit> _permits = []; // granted and not yet a window past their end
    private readonly SemaphoreSlim _turn = new(1, 1);
    private TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _idleSince;

    /// <summary>Creates the limiter.</summary>
    /// <param name="permitLimit">Permits in any window; at least 1.</param>
    /// <param name="window">The window; positive.</param>
    /// <param name="timeProvider">The clock (default: the system clock).</param>
    public RollingWindowRateLimiter(int permitLimit, TimeSpan window, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permitLimit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _limit = permitLimit;
        _window = window;
        _time = timeProvider ?? TimeProvider.System;
        _idleSince = _time.GetTimestamp();
    }

    /// <inheritdoc/>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_permits)
            {
                Expire(_time.GetTimestamp());
                return _permits.Count == 0 ? _time.GetElapsedTime(_idleSince) : null;
            }
        }
    }

    /// <inheritdoc/>
    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_permits)
        {
            Expire(_time.GetTimestamp());
            return new RateLimiterStatistics { CurrentAvailablePermits = _limit - _permits.Count };
        }
    }

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Check(permitCount);
        lock (_permits)
        {
            return TryGrant(permitCount, out _, out _) ?? ReleasingLease.Refused;
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Check(permitCount);
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                TimeSpan wait;
                Task ended;
                lock (_permits)
                {
                    if (TryGrant(permitCount, out wait, out ended) is { } lease)
                    {
                        return lease;
                    }
                }

                // Until the blocking permit leaves the window, or (all still in flight) until one ends.
                using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var delay = Task.Delay(wait, _time, either.Token);
                await Task.WhenAny(delay, ended).ConfigureAwait(false);
                await either.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _turn.Dispose();
        }

        base.Dispose(disposing);
    }

    private ReleasingLease? TryGrant(int permits, out TimeSpan wait, out Task ended)
    {
        var now = _time.GetTimestamp();
        Expire(now);
        ended = _ended.Task;
        if (_permits.Count + permits <= _limit)
        {
            var permit = new Permit();
            for (var i = 0; i < permits; i++)
            {
                _permits.Add(permit);
            }

            wait = TimeSpan.Zero;
            return new ReleasingLease(() => End(permit));
        }

        // The permits that must leave the window first: the earliest-ended ones.
        var need = _permits.Count + permits - _limit;
        var endedPermits = _permits.Where(p => p.End is not null).Select(p => p.End!.Value).Order().ToList();
        wait = endedPermits.Count >= need
            ? _window - _time.GetElapsedTime(endedPermits[need - 1], now) + TimeSpan.FromMilliseconds(1)
            : _window; // waits for an end (the task) or, at the latest, a window
        if (wait < TimeSpan.FromMilliseconds(1))
        {
            wait = TimeSpan.FromMilliseconds(1);
        }

        return null;
    }

    private void End(Permit permit)
    {
        TaskCompletionSource signal;
        lock (_permits)
        {
            permit.End = _time.GetTimestamp();
            signal = _ended;
            _ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }

    private void Expire(long now)
    {
        var before = _permits.Count;
        _permits.RemoveAll(p => p.End is { } end && _time.GetElapsedTime(end, now) >= _window);
        if (before > 0 && _permits.Count == 0)
        {
            _idleSince = now;
        }
    }

    private void Check(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permitCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, _limit);
    }

    private sealed class Permit
    {
        public long? End;
    }
}
