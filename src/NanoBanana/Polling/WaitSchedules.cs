namespace NanoBanana.Polling;

/// <summary>
/// The poll schedules of the waits that share one poll loop: the loop polls as soon as any of them asks (each caller's
/// schedule is the most time it is willing to let pass between looks). A wait that joins with a schedule not among them
/// wakes the loop, which then polls no later than it had planned and sooner when the newcomer asks so. A wait that
/// leaves takes its schedule with it; the loop does without it from its next decision on.
/// </summary>
internal sealed class WaitSchedules : IDisposable
{
    private readonly object _gate = new();
    private readonly List<IPollSchedule> _all; // one entry per wait, so a schedule two waits share stays until both leave
    private readonly List<CancellationTokenSource> _spent = []; // wake sources already used, disposed with the loop
    private readonly CancellationToken _stop;
    private IPollSchedule[] _distinct;
    private CancellationTokenSource _wake;

    /// <summary>Starts with the first wait's schedule; <paramref name="stop"/> is the loop's own token.</summary>
    public WaitSchedules(IPollSchedule first, CancellationToken stop)
    {
        _all = [first];
        _distinct = [first];
        _stop = stop;
        _wake = CancellationTokenSource.CreateLinkedTokenSource(stop);
    }

    /// <summary>The schedules to consult, each once (a snapshot; a change replaces the array).</summary>
    public IPollSchedule[] Current => Volatile.Read(ref _distinct);

    /// <summary>
    /// Cancelled when the loop's token is, or when a wait joins with a schedule not yet among these: read it before
    /// consulting <see cref="Current"/>, so that a change after that read is never missed.
    /// </summary>
    public CancellationToken WakeToken
    {
        get
        {
            lock (_gate)
            {
                return _wake.Token;
            }
        }
    }

    /// <summary>Adds a joining wait's schedule; a new one wakes the loop.</summary>
    public void Add(IPollSchedule schedule)
    {
        CancellationTokenSource? woken = null;
        lock (_gate)
        {
            _all.Add(schedule);
            if (Array.IndexOf(_distinct, schedule) >= 0)
            {
                return;
            }

            Volatile.Write(ref _distinct, [.. _distinct, schedule]);
            woken = _wake;
            _spent.Add(woken);
            _wake = CancellationTokenSource.CreateLinkedTokenSource(_stop);
        }

        woken.Cancel();
    }

    /// <summary>Removes a leaving wait's schedule (the last one stays: the loop stops with its last waiter anyway).</summary>
    public void Remove(IPollSchedule schedule)
    {
        lock (_gate)
        {
            if (_all.Count == 1 || !_all.Remove(schedule) || _all.Contains(schedule))
            {
                return;
            }

            Volatile.Write(ref _distinct, Array.FindAll(_distinct, s => !ReferenceEquals(s, schedule)));
        }
    }

    /// <summary>Releases the wake sources, once the loop has ended.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _wake.Dispose();
            foreach (var spent in _spent)
            {
                spent.Dispose();
            }

            _spent.Clear();
        }
    }
}
