using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NanoBanana.Emulator;

namespace NanoBanana.Tests;

internal static class Emu
{
    public const string Key = "sk-test-SECRET-0123456789";

    // Four test classes run at once, each with Kestrel servers and clients, on a 2-core machine whose thread pool starts
    // with 2 threads: timer callbacks and continuations then wait for the pool to grow (about a thread a second), and
    // deadline tests saw a 400 ms attempt timeout fire seconds late. Tests measure behaviour, not the pool's warm-up.
    static Emu()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
    }

    /// <summary>An emulator at 1/1000 time scale: NB2 jobs take 4–8 ms.</summary>
    public static Task<NanoBananaEmulator> StartAsync(Action<EmulatorOptions>? configure = null, double timeScale = 0.001)
    {
        var options = new EmulatorOptions { TimeScale = timeScale, ApiKey = Key, Seed = 42, RetryAfterSeconds = 1 };
        Adversary(options);
        configure?.Invoke(options);
        return NanoBananaEmulator.StartAsync(options);
    }

    // NB_EMULATOR_DEFAULTS (comma-separated names of Soak.EmulatorWorlds) changes the emulator's defaults under every
    // test that leaves them alone, so that the suite can be run against a service that is not the emulator's default
    // one: a claim that holds only for the defaults shows up as a failure. A test's own settings still win. CI runs the
    // suite a second time with most of them at once (.ci/run); README, "Our own suite against a service that is not the
    // emulator's default".
    private static void Adversary(EmulatorOptions options)
    {
        foreach (var change in (Environment.GetEnvironmentVariable("NB_EMULATOR_DEFAULTS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Soak.EmulatorWorlds.All.TryGetValue(change, out var configure))
            {
                throw new InvalidOperationException($"NB_EMULATOR_DEFAULTS: unknown change '{change}'; one of {string.Join(", ", Soak.EmulatorWorlds.All.Keys)}.");
            }

            configure(options);
        }
    }

    /// <summary>Client options against the emulator with fast transport retries.</summary>
    public static NanoBananaOptions Options(NanoBananaEmulator emulator, Action<NanoBananaOptions>? configure = null)
    {
        var options = new NanoBananaOptions { ApiKey = Key };
        emulator.ConfigureClient(options);
        options.Retry.BaseDelay = TimeSpan.FromMilliseconds(5);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
        options.Retry.MaxRetryAfter = TimeSpan.FromSeconds(2);
        options.Deadline = TimeSpan.FromSeconds(30);
        configure?.Invoke(options);
        return options;
    }

    public static NanoBananaClient Client(NanoBananaEmulator emulator, Action<NanoBananaOptions>? configure = null, ILoggerFactory? loggers = null, TimeProvider? time = null) =>
        new(Options(emulator, configure), null, loggers, time);

    public static int Count(this NanoBananaEmulator e, string kind) => e.Requests.Count(r => r.Kind == kind);
}

/// <summary>IProgress that calls back on the reporting thread (Progress&lt;T&gt; posts to the pool, so reports arrive late).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>A hand-written manual clock (no FakeTimeProvider package here): time moves only when the test says so.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private readonly DateTimeOffset _epoch = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private long _ticks;

    public override DateTimeOffset GetUtcNow() => _epoch.AddTicks(Interlocked.Read(ref _ticks));

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public int PendingTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count(t => t.DueAt != long.MaxValue);
            }
        }
    }

    /// <summary>How long until the earliest pending timer fires, if one fires within <paramref name="horizon"/>.</summary>
    public TimeSpan? NextTimerWithin(TimeSpan horizon)
    {
        lock (_gate)
        {
            var due = _timers.Count == 0 ? long.MaxValue : _timers.Min(t => t.DueAt);
            return due - _ticks <= horizon.Ticks ? TimeSpan.FromTicks(Math.Max(0, due - _ticks)) : null;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        var target = Interlocked.Read(ref _ticks) + by.Ticks;
        while (true)
        {
            ManualTimer? next;
            lock (_gate)
            {
                next = _timers.Where(t => t.DueAt <= target).OrderBy(t => t.DueAt).FirstOrDefault();
                if (next is null)
                {
                    // Never backwards: a timer's callback may have moved the clock on itself (a simulated network).
                    Interlocked.Exchange(ref _ticks, Math.Max(_ticks, target));
                    return;
                }

                Interlocked.Exchange(ref _ticks, Math.Max(_ticks, next.DueAt));
                next.DueAt = next.Period > 0 ? next.DueAt + next.Period : long.MaxValue;
            }

            next.Fire();
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long DueAt = long.MaxValue;
        public long Period;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                if (!owner._timers.Contains(this))
                {
                    owner._timers.Add(this);
                }

                DueAt = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : owner._ticks + dueTime.Ticks;
                Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            }

            return true;
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}

/// <summary>Captures every log message, formatted, with its level.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ILoggerFactory
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : " | " + exception)));
    }
}

/// <summary>
/// Collects the SDK's finished spans while alive. Tests run in parallel and share the source: filter what
/// <see cref="Finished"/> returns by a tag of your own job.
/// </summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly List<System.Diagnostics.Activity> _spans = [];
    private readonly System.Diagnostics.ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == NanoBanana.Diagnostics.NanoBananaTelemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (_spans) { _spans.Add(a); } },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>A snapshot of the spans finished so far.</summary>
    public System.Diagnostics.Activity[] Finished()
    {
        lock (_spans)
        {
            return [.. _spans];
        }
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>A stream of <c>length</c> spaces, served in whatever chunks are asked for, that counts what was read.</summary>
internal sealed class ChunkedStream(long length) : Stream
{
    public long Served { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => Served; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(count, length - Served);
        buffer.AsSpan(offset, n).Fill((byte)' ');
        Served += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A fact that needs Unix paths (/dev, /proc): skipped, with the reason, elsewhere, rather than passing without checking anything.</summary>
internal sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "needs Unix paths (/dev, /proc)";
        }
    }
}

/// <summary>A fact that runs bash: skipped, with the reason, where there is none.</summary>
internal sealed class BashFactAttribute : FactAttribute
{
    public BashFactAttribute()
    {
        if (!File.Exists("/bin/bash"))
        {
            Skip = "needs /bin/bash";
        }
    }
}
