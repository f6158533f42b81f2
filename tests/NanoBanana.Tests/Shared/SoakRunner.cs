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
    /// <summary>One line per figure.</summary>
    public override string ToString() =>
        $"jobs {Jobs}: completed {Completed}, failed with a typed error {FailedTyped}, untyped errors {UntypedErrors}, lost {Lost}, " +
        $"extra accepted submits {ExtraAcceptedSubmits}, unobserved exceptions {UnobservedExceptions}, deadline overruns >10% {DeadlineOverruns}; " +
        $"exchanges {Exchanges} of which faulted {FaultedExchanges} ({100.0 * FaultedExchanges / Math.Max(1, Exchanges):0.0}%), accepted submits {AcceptedSubmits}, " +
        $"duration {Duration.TotalSeconds:0.0} s; outcomes: {string.Join(", ", Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}";
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
    public static async Task<SoakReport> RunAsync(int jobs, double faultRate = 0.2, double timeScale = 0.05, int concurrency = 200)
    {
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
            };
            foreach (var kind in Enum.GetValues<FaultKind>())
            {
                emulatorOptions.RandomFaults.Add(kind);
            }

            await using var emulator = await NanoBananaEmulator.StartAsync(emulatorOptions);
            var options = emulator.ConfigureClient(new NanoBananaOptions());
            var deadline = TimeSpan.FromSeconds(60 * timeScale);
            options.Deadline = deadline;
            options.Retry.BaseDelay = TimeSpan.FromMilliseconds(2);
            options.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
            options.Retry.MaxRetryAfter = TimeSpan.FromMilliseconds(50);
            options.Retry.SubmitTimeout = TimeSpan.FromSeconds(20 * timeScale);
            options.Retry.SyncSubmitTimeout = TimeSpan.FromSeconds(30 * timeScale);
            options.Retry.AttemptTimeout = TimeSpan.FromSeconds(10 * timeScale);
            options.Retry.RetrySubmitOnRateLimit = true;
            using var client = new NanoBananaClient(options);

            // Warm up JIT, connections and the emulator outside the measurement (its outcome does not count).
            try
            {
                await client.GenerateAsync(new ImageJob("warm-up")).ConfigureAwait(false);
            }
            catch (NanoBananaException)
            {
            }

            var outcomes = new ConcurrentDictionary<string, int>();
            int completed = 0, typed = 0, untyped = 0, overruns = 0;
            using var gate = new SemaphoreSlim(concurrency);
            var watch = Stopwatch.StartNew();
            var tasks = Enumerable.Range(0, jobs).Select(async i =>
            {
                await gate.WaitAsync().ConfigureAwait(false);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var job = new ImageJob($"soak #{i}: a lighthouse at dusk")
                    {
                        TypographyCritical = i % 4 == 0,
                        Stylized = i % 4 == 1,
                        UseSyncMode = i % 5 == 0,
                    };
                    await client.GenerateAsync(job).ConfigureAwait(false);
                    Interlocked.Increment(ref completed);
                    outcomes.AddOrUpdate("completed", 1, (_, n) => n + 1);
                }
                catch (NanoBananaException ex)
                {
                    Interlocked.Increment(ref typed);
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

            // Billing check: per job, accepted submits may exceed one only by the runs that failed (refunded fallbacks).
            var extra = 0;
            var log = emulator.Requests;
            foreach (var group in log.Where(r => r.Kind == "submit" && r.Accepted && r.Body is not null).GroupBy(r => JobTag.Match(r.Body!).Value))
            {
                var accepted = group.Count();
                var failed = group.Count(r => emulator.GetJob(r.PredictionId!)?.Fate == "failed");
                extra += Math.Max(0, accepted - failed - 1);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var measured = log.Where(r => r.Kind is "submit" or "poll").Where(r => r.Kind == "poll" || JobTag.IsMatch(r.Body ?? "")).ToArray();
            var exchanges = measured.Length;
            var faulted = measured.Count(r => r.Fault is not null);
            return new SoakReport(jobs, completed, typed, untyped, lost, extra, Volatile.Read(ref unobserved), overruns, exchanges, faulted, emulator.AcceptedSubmits, watch.Elapsed, outcomes);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= onUnobserved;
        }
    }
}
