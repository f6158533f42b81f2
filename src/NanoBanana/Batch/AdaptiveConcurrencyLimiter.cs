using System.Threading.RateLimiting;

namespace NanoBanana.Batch;

/// <summary>
/// A concurrency limit that adapts to the service: halved on a 429 (multiplicative decrease, never below 1), raised by
/// one after a limit's worth of acceptances in a row (additive increase, never above the ceiling). Leases hold a slot
/// until disposed; waiters are served first come, first served.
/// </summary>
public sealed class AdaptiveConcurrencyLimiter : RateLimiter
{
    private readonly int _ceiling;
    private readonly Queue<(TaskCompletionSource<RateLimitLease> Waiter, CancellationTokenRegistration Registration)> _waiters = new();
    private int _limit;
    private int _inUse;
    private int _acceptedInARow;
    private long _idleSince = Environment.TickCount64;

    /// <summary>Creates the limiter with its ceiling as the starting limit.</summary>
    /// <param name="ceiling">The most slots ever allowed; at least 1.</param>
    public AdaptiveConcurrencyLimiter(int ceiling)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ceiling, 1);
        _ceiling = ceiling;
        _limit = ceiling;
    }

    /// <summary>The slots allowed now.</summary>
    public int Limit
    {
        get
        {
            lock (_waiters)
            {
                return _limit;
            }
        }
    }

    /// <summary>The slots in use now.</summary>
    public int InUse
    {
        get
        {
            lock (_waiters)
            {
                return _inUse;
            }
        }
    }

    /// <summary>The service refused for load (429): halve the limit.</summary>
    public void Decrease()
    {
        lock (_waiters)
        {
            _limit = Math.Max(1, _limit / 2);
            _acceptedInARow = 0;
        }
    }

    /// <summary>The service accepted: after a limit's worth in a row, allow one more slot.</summary>
    public void Increase()
    {
        lock (_waiters)
        {
            if (++_acceptedInARow >= _limit && _limit < _ceiling)
            {
                _limit++;
                _acceptedInARow = 0;
                Grant();
            }
        }
    }

    /// <inheritdoc/>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_waiters)
            {
                return _inUse == 0 ? TimeSpan.FromMilliseconds(Environment.TickCount64 - _idleSince) : null;
            }
        }
    }

    /// <inheritdoc/>
    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_waiters)
        {
            return new RateLimiterStatistics { CurrentAvailablePermits = Math.Max(0, _limit - _inUse), CurrentQueuedCount = _waiters.Count };
        }
    }

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(permitCount, 1);
        lock (_waiters)
        {
            if (_waiters.Count == 0 && _inUse < _limit)
            {
                _inUse++;
                return new ReleasingLease(Release);
            }

            return ReleasingLease.Refused;
        }
    }

    /// <inheritdoc/>
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(permitCount, 1);
        lock (_waiters)
        {
            if (_waiters.Count == 0 && _inUse < _limit)
            {
                _inUse++;
                return ValueTask.FromResult<RateLimitLease>(new ReleasingLease(Release));
            }

            var waiter = new TaskCompletionSource<RateLimitLease>(TaskCreationOptions.RunContinuationsAsynchronously);
            var registration = cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken));
            _waiters.Enqueue((waiter, registration));
            return new ValueTask<RateLimitLease>(waiter.Task);
        }
    }

    private void Release()
    {
        lock (_waiters)
        {
            _inUse--;
            if (_inUse == 0)
            {
                _idleSince = Environment.TickCount64;
            }

            Grant();
        }
    }

    // Hands free slots to waiters (skipping those cancelled meanwhile). Called under the lock.
    private void Grant()
    {
        while (_inUse < _limit && _waiters.TryDequeue(out var next))
        {
            next.Registration.Dispose();
            _inUse++;
            if (!next.Waiter.TrySetResult(new ReleasingLease(Release)))
            {
                _inUse--;
            }
        }
    }
}
