using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace NanoBanana.Benchmarks;

/// <summary>
/// 10,000 jobs in flight at once through one client against the emulator running in a separate process (so the
/// figures are the client's alone): peak working set, CPU time per job, thread count, lost or stalled jobs.
/// </summary>
internal static partial class ScaleHarness
{
    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex Listening();

    public static async Task<int> RunAsync(int jobs)
    {
        // The emulator tool (nanobanana-emulator), built beside the harness.
        using var emulator = NanoBanana.Soak.DotnetApp.Start("nanobanana-emulator.dll", ["--port", "0", "--time-scale", "1"]);
        try
        {
            string? line;
            Uri? baseUrl = null;
            while ((line = await emulator.StandardOutput.ReadLineAsync()) is not null)
            {
                var match = Listening().Match(line);
                if (match.Success)
                {
                    baseUrl = new Uri(match.Groups[1].Value);
                    break;
                }
            }

            ArgumentNullException.ThrowIfNull(baseUrl);
            var options = new NanoBananaOptions { ApiKey = "scale-test", BaseUrl = baseUrl, Deadline = TimeSpan.FromMinutes(2) };
            using var client = new NanoBananaClient(options);
            await client.GenerateAsync(new ImageJob("warm-up") { PinnedTier = ImageTier.NanoBanana2 }); // JIT and connections

            var self = Process.GetCurrentProcess();
            self.Refresh();
            var cpuBefore = self.TotalProcessorTime;
            long peakWorkingSet = self.WorkingSet64;
            var peakThreads = self.Threads.Count;
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    self.Refresh();
                    peakWorkingSet = Math.Max(peakWorkingSet, self.WorkingSet64);
                    peakThreads = Math.Max(peakThreads, self.Threads.Count);
                    await Task.Delay(100).ConfigureAwait(false);
                }
            });

            var watch = Stopwatch.StartNew();
            int completed = 0, failed = 0;
            long polls = 0;
            var tasks = Enumerable.Range(0, jobs).Select(async i =>
            {
                try
                {
                    var result = await client.GenerateAsync(new ImageJob($"scale #{i}") { PinnedTier = ImageTier.NanoBanana2 }).ConfigureAwait(false);
                    Interlocked.Add(ref polls, result.PollCount);
                    Interlocked.Increment(ref completed);
                }
                catch (NanoBananaException)
                {
                    Interlocked.Increment(ref failed);
                }
            }).ToArray();
            var all = Task.WhenAll(tasks);
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromMinutes(3)));
            var stalled = tasks.Count(t => !t.IsCompleted);
            watch.Stop();
            await stop.CancelAsync();
            await sampler;
            self.Refresh();
            var cpu = self.TotalProcessorTime - cpuBefore;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Scale: {jobs} Nano Banana 2 jobs (4-8 s each, real time) in flight at once through one client; emulator in a separate process."));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  completed {completed}, failed {failed}, lost/stalled {stalled}, wall {watch.Elapsed.TotalSeconds:0.0} s"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  requests {jobs + polls} ({(jobs + polls) / (double)jobs:0.00} per job)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  client CPU {cpu.TotalSeconds:0.00} s = {cpu.TotalMilliseconds / jobs:0.000} ms per job"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  peak working set {peakWorkingSet / (1024.0 * 1024):0} MB, peak threads {peakThreads}"));
            var ok = stalled == 0 && failed == 0 && completed == jobs && cpu.TotalMilliseconds / jobs < 1 && peakWorkingSet < 500L * 1024 * 1024;
            Console.WriteLine(ok ? "  goals met (all complete, CPU < 1 ms/job, memory < 500 MB)" : "  GOALS MISSED (all complete, CPU < 1 ms/job, memory < 500 MB)");
            return ok ? 0 : 1;
        }
        finally
        {
            emulator.Kill(entireProcessTree: true);
        }
    }
}
