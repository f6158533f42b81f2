using System.Collections.Concurrent;
using System.Diagnostics;
using NanoBanana.Emulator;

namespace NanoBanana.Soak;

/// <summary>What a fault soak measured.</summary>
public sealed record SoakReport(
    int Jobs,
    int Completed,
    int FailedTyped,
    int UntypedErrors,
    int Lost,
    int ExtraAcceptedSubmits,
    int UnobservedExceptions,
    int DeadlineOverruns,
    int Exchanges,
    int FaultedExchanges,
    int AcceptedSubmits,
    TimeSpan Duration,
    IReadOnlyDictionary<string, int> Outcomes)
{
    /// <summary>Jobs the soak cancelled after the submit was accepted (a <see cref="PredictionCanceledException"/> with the id).</summary>
    public int CancelledAfterAcceptance { get; init; }

    /// <summary>Jobs cancelled before their submit left (plain cancellation): must have no accepted submit.</summary>
    public int CancelledBeforeSending { get; init; }

    /// <summary>Of those, the ones the emulator nevertheless accepted (must be 0).</summary>
    public int CancelledBeforeSendingButAccepted { get; init; }

    /// <summary>Cancelled jobs resumed by id to an image.</summary>
    public int ResumedToImage { get; init; }

    /// <summary>Cancelled jobs the emulator completed normally that resuming by id did not turn into an image (must be 0).</summary>
    public int ResumeLost { get; init; }

    /// <summary>Submits the server accepted but answered without an id the client could read (SubmitOutcomeUnknownException): reported, not lost.</summary>
    public int AcceptedWithoutId { get; init; }

    /// <summary>Log lines and exception texts that contained the API key (must be 0).</summary>
    public int KeyLeaks { get; init; }

    /// <summary>Log lines and exception texts holding a character that acts on a terminal (escape, bell, bidi override; must be 0).</summary>
    public int UnsafeTexts { get; init; }

    /// <summary>The cancellation, resume and key figures.</summary>
    public string CancellationSummary =>
        $"cancelled after acceptance {CancelledAfterAcceptance} (resumed by id to an image {ResumedToImage}, lost {ResumeLost}), cancelled before sending {CancelledBeforeSending} " +
        $"(accepted anyway {CancelledBeforeSendingButAccepted}), accepted without a readable id {AcceptedWithoutId}, key leaks {KeyLeaks}, unsafe texts {UnsafeTexts}";

    /// <summary>One line per figure.</summary>
    public override string ToString() =>
        $"jobs {Jobs}: completed {Completed}, failed with a typed error {FailedTyped}, untyped errors {UntypedErrors}, lost {Lost}, " +
        $"extra accepted submits {ExtraAcceptedSubmits}, unobserved exceptions {UnobservedExceptions}, deadline overruns >10% {DeadlineOverruns}; " +
        $"exchanges {Exchanges} of which faulted {FaultedExchanges} ({100.0 * FaultedExchanges / Math.Max(1, Exchanges):0.0}%), accepted submits {AcceptedSubmits}, " +
        $"duration {Duration.TotalSeconds:0.0} s; {CancellationSummary}; outcomes: {string.Join(", ", Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}";
}

/// <summary>
/// Runs jobs through one client against an emulator that injects every kind of fault into a share of exchanges, and
/// checks that nothing is lost, nothing is paid twice beyond allowed fallbacks and no deadline is overrun.
/// </summary>
public static partial class SoakRunner
{
    private static readonly System.Text.RegularExpressions.Regex JobTag = new(@"soak #\d+:", System.Text.RegularExpressions.RegexOptions.Compiled);

    /// <summary>Runs the soak.</summary>
    /// <param name="jobs">Number of jobs.</param>
    /// <param name="faultRate">Share of exchanges hit by an injected fault.</param>
    /// <param name="timeScale">Emulator time scale (0.05: a 4–8 s job takes 200–400 ms).</param>
    /// <param name="concurrency">Jobs in flight at once.</param>
    /// <param name="cancelShare">Share of jobs the soak cancels at a random moment (then resumes by id when accepted).</param>
    /// <param name="configure">Changes to the emulator's defaults (latency shape, executionTime, body spellings).</param>
    public static async Task<SoakReport> RunAsync(int jobs, double faultRate = 0.2, double timeScale = 0.05, int concurrency = 200, double cancelShare = 0.15, Action<EmulatorOptions>? configure = null)
    {
        const string key = "sk-soak-SECRET-4242424242";
        var logs = new TextCollector();
        var unobserved = 0;
        EventHandler<UnobservedTaskExceptionEventArgs> onUnobserved = (_, _) => Interlocked.Increment(ref unobserved);
        TaskScheduler.UnobservedTaskException += onUnobserved;
        try
        {
            var emulatorOptions = new EmulatorOptions
            {
                TimeScale = timeScale,
                FaultRate = faultRate,
                Seed = 1234,
                RetryAfterSeconds = 1,
                SlowSubmitDelay = TimeSpan.FromSeconds(120 * timeScale),
                SyncModeTimeout = TimeSpan.FromSeconds(25),
                LogBodies = true,
                ApiKey = key,
                DripInterval = TimeSpan.FromSeconds(20 * timeScale),
                OversizedBodyBytes = 4_000_000,
                HugeOutputBytes = 4_000_000,
            };
            configure?.Invoke(emulatorOptions);

            await using var emulator = await NanoBananaEmulator.StartAsync(emulatorOptions);
            var options = emulator.ConfigureClient(new NanoBananaOptions { ApiKey = key });
            var deadline = TimeSpan.FromSeconds(60 * timeScale);
            options.Deadline = deadline;
            options.Retry.BaseDelay = TimeSpan.FromMilliseconds(2);
            options.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
            options.Retry.MaxRetryAfter = TimeSpan.FromMilliseconds(50);
            options.Retry.SubmitTimeout = TimeSpan.FromSeconds(20 * timeScale);
            options.Retry.SyncSubmitTimeout = TimeSpan.FromSeconds(30 * timeScale);
            options.Retry.AttemptTimeout = TimeSpan.FromSeconds(10 * timeScale);
            using var client = new NanoBananaClient(options, null, logs);

            // Warm up JIT, connections and the emulator outside the measurement (its outcome does not count).
            try
            {
                await client.GenerateAsync(new ImageJob("warm-up")).ConfigureAwait(false);
            }
            catch (NanoBananaException)
            {
            }

            var outcomes = new ConcurrentDictionary<string, int>();
            var cancelled = new ConcurrentBag<(string Id, string? Model)>();
            var cancelledBeforeSending = new ConcurrentBag<int>();
            int completed = 0, typed = 0, untyped = 0, overruns = 0, withoutId = 0;
            var typicalMin = options.Catalog.Models.Values.Min(m => m.TypicalLatencyMinSeconds ?? 1);
            using var gate = new SemaphoreSlim(concurrency);
            var watch = Stopwatch.StartNew();
            var tasks = Enumerable.Range(0, jobs).Select(async i =>
            {
                await gate.WaitAsync().ConfigureAwait(false);
                var started = Stopwatch.GetTimestamp();
                using var cts = new CancellationTokenSource();
                IProgress<Polling.GenerationProgress>? progress = null;
                if ((i * 0.618034 % 1.0) < cancelShare)
                {
                    // Deterministic spread: one in five is cancelled before it is sent; the others at a moment in the first
                    // quarter of the time to the earliest completions after acceptance (the first progress report carries
                    // the id), so that a loaded machine or a quick schedule does not let the job finish first.
                    var fraction = i * 0.414214 % 1.0;
                    if (fraction < 0.2)
                    {
                        cts.Cancel();
                    }
                    else
                    {
                        progress = new OnReport(() => cts.CancelAfter(TimeSpan.FromSeconds(typicalMin * fraction / 4)));
                    }
                }

                try
                {
                    var job = new ImageJob($"soak #{i}: a lighthouse at dusk")
                    {
                        TypographyCritical = i % 4 == 0,
                        Stylized = i % 4 == 1,
                        UseSyncMode = i % 5 == 0,
                    };
                    await client.GenerateAsync(job, progress, cts.Token).ConfigureAwait(false);
                    Interlocked.Increment(ref completed);
                    outcomes.AddOrUpdate("completed", 1, (_, n) => n + 1);
                }
                catch (PredictionCanceledException ex)
                {
                    logs.Add(ex.ToString());
                    cancelled.Add((ex.PredictionId!, ex.ModelId));
                    outcomes.AddOrUpdate("cancelled after acceptance", 1, (_, n) => n + 1);
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested)
                {
                    cancelledBeforeSending.Add(i);
                    outcomes.AddOrUpdate("cancelled before sending", 1, (_, n) => n + 1);
                }
                catch (NanoBananaException ex)
                {
                    logs.Add(ex.ToString());
                    Interlocked.Increment(ref typed);
                    if (ex is SubmitOutcomeUnknownException)
                    {
                        Interlocked.Increment(ref withoutId);
                    }

                    outcomes.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref untyped);
                    outcomes.AddOrUpdate("untyped " + ex.GetType().Name, 1, (_, n) => n + 1);
                }
                finally
                {
                    if (Stopwatch.GetElapsedTime(started) > deadline * 1.1)
                    {
                        Interlocked.Increment(ref overruns);
                    }

                    gate.Release();
                }
            }).ToArray();

            var all = Task.WhenAll(tasks);
            var limit = TimeSpan.FromSeconds(30) + (deadline * 3 * Math.Ceiling((double)jobs / concurrency));
            await Task.WhenAny(all, Task.Delay(limit)).ConfigureAwait(false);
            var lost = tasks.Count(t => !t.IsCompleted);
            watch.Stop();

            // Every job cancelled after acceptance is resumed by its id, on a quiet server: a job the emulator
            // completed normally must come back as an image.
            emulatorOptions.FaultRate = 0;
            var resumedToImage = 0;
            var resumeLost = 0;
            await Task.WhenAll(cancelled.Select(async c =>
            {
                try
                {
                    var result = await client.ResumeAsync(c.Id, c.Model).ConfigureAwait(false);
                    if (result.Images.Count > 0 && result.PredictionId == c.Id)
                    {
                        Interlocked.Increment(ref resumedToImage);
                        return;
                    }
                }
                catch (NanoBananaException ex)
                {
                    logs.Add(ex.ToString());
                }

                var fate = emulator.GetJob(c.Id);
                if (fate is { Fate: JobFate.Completed, HostileOutput: null })
                {
                    Interlocked.Increment(ref resumeLost);
                }
            })).ConfigureAwait(false);

            // Billing check: per job, accepted submits may exceed one only by the runs that failed (refunded fallbacks).
            var extra = 0;
            var log = emulator.Requests;
            foreach (var group in log.Where(r => r.Kind == "submit" && r.Accepted && r.Body is not null).GroupBy(r => JobTag.Match(r.Body!).Value))
            {
                var accepted = group.Count();
                var failed = group.Count(r => emulator.GetJob(r.PredictionId!)?.Fate == JobFate.Failed);
                extra += Math.Max(0, accepted - failed - 1);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var measured = log.Where(r => r.Kind is "submit" or "poll").Where(r => r.Kind == "poll" || JobTag.IsMatch(r.Body ?? "")).ToArray();
            var exchanges = measured.Length;
            var faulted = measured.Count(r => r.Fault is not null);
            var acceptedTags = log.Where(r => r.Kind == "submit" && r.Accepted && r.Body is not null).Select(r => JobTag.Match(r.Body!).Value).ToHashSet();
            var beforeButAccepted = cancelledBeforeSending.Count(i => acceptedTags.Contains($"soak #{i}:"));
            var leaks = logs.Texts.Count(t => t.Contains(key, StringComparison.Ordinal) || t.Contains("SECRET-4242", StringComparison.Ordinal));
            var unsafeTexts = logs.Texts.Count(EmulatorWorlds.IsUnsafe);
            return new SoakReport(jobs, completed, typed, untyped, lost, extra, Volatile.Read(ref unobserved), overruns, exchanges, faulted, emulator.AcceptedSubmits, watch.Elapsed, outcomes)
            {
                CancelledAfterAcceptance = cancelled.Count,
                CancelledBeforeSending = cancelledBeforeSending.Count,
                CancelledBeforeSendingButAccepted = beforeButAccepted,
                ResumedToImage = resumedToImage,
                ResumeLost = resumeLost,
                AcceptedWithoutId = withoutId,
                KeyLeaks = leaks,
                UnsafeTexts = unsafeTexts,
            };
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= onUnobserved;
        }
    }

    private sealed class OnReport(Action action) : IProgress<Polling.GenerationProgress>
    {
        private int _done;

        public void Report(Polling.GenerationProgress value)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                action();
            }
        }
    }

    /// <summary>Collects every formatted log line (all levels) to look for the key afterwards.</summary>
    private sealed class TextCollector : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        private readonly ConcurrentQueue<string> _texts = new();

        public IEnumerable<string> Texts => _texts;

        public void Add(string text) => _texts.Enqueue(text);

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _texts.Enqueue(formatter(state, exception) + (exception is null ? "" : " | " + exception));
    }
}
