using System.Text;
using Microsoft.Extensions.Logging;
using NanoBanana.Catalog;
using NanoBanana.Polling;

namespace NanoBanana.Tests;

/// <summary>
/// What a client learned about completion times survives a restart (<see cref="PollingOptions.CompletionTimesFile"/>,
/// <see cref="NanoBananaClient.SaveCompletionTimesAsync"/>): saved, read back strictly, and never fatal when the file
/// is hostile or from another service.
/// </summary>
public sealed class CompletionTimesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nb-times-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static ImageModel Flash => ModelCatalog.Default.Models.First(m => m.Tier == ImageTier.NanoBanana);

    // By default a service three times faster than the catalog's 3–6 s: jobs of 1–2 s, seen by polls 0.5 s apart.
    private static LatencyStatistics Learned(int jobs, int seed = 1, double low = 1, double high = 2)
    {
        var stats = new LatencyStatistics();
        var random = new Random(seed);
        for (var i = 0; i < jobs; i++)
        {
            var t = low + ((high - low) * random.NextDouble());
            var upper = Math.Ceiling(t / 0.5) * 0.5;
            stats.RecordInterval(Flash, upper - 0.5, upper);
        }

        return stats;
    }

    private static LatencyStatistics Restored(LatencyStatistics learned)
    {
        var restored = new LatencyStatistics();
        foreach (var model in learned.Export())
        {
            restored.Import(model);
        }

        return restored;
    }

    private static async Task<byte[]> Saved(LatencyStatistics stats, string? service = "http://127.0.0.1:1")
    {
        using var stream = new MemoryStream();
        await CompletionTimesFile.WriteAsync(stream, stats, service, DateTimeOffset.UnixEpoch, CancellationToken.None);
        return stream.ToArray();
    }

    private static Task<CompletionTimesFile.Contents> Read(string json) =>
        CompletionTimesFile.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(json)), CancellationToken.None);

    // After how many completions the restored observations were dropped as from before a change, or -1.
    private static int DroppedAfter(LatencyStatistics stats, double[] truths, int inFlight)
    {
        var after = -1;
        WaitDriver.Run(stats, Flash, truths, inFlight, n =>
        {
            if (after < 0 && (stats.ChangePoints(Flash) > 0 || stats.RestoredDrops(Flash) > 0))
            {
                after = n;
            }
        });
        return after;
    }

    [Fact]
    public void Restored_times_from_a_service_that_has_since_slowed_are_dropped_after_the_first_answers()
    {
        // Learned when the service ran 1–2 s; after the restart it runs the catalog's 3–6 s.
        var stats = Restored(Learned(130));
        Assert.InRange(DroppedAfter(stats, WaitDriver.Uniform(24, seed: 5, low: 3, high: 6), inFlight: 1), 1, 10);
        Assert.True(stats.Observations(Flash).Length <= 24, $"only what this client saw itself: {stats.Observations(Flash).Length}, {stats.ChangePoints(Flash)} changes");
        Assert.True(stats.GetEstimate(Flash).Quantile(0.5) > 3, "the estimate should follow the new waits, not the restored ones");

        // 1.6× slower than learned, 8 jobs in flight: caught within the first waves too.
        var slower = Restored(Learned(130, low: 3, high: 6));
        Assert.InRange(DroppedAfter(slower, WaitDriver.Uniform(40, seed: 6, low: 4.8, high: 9.6), inFlight: 8), 1, 8);
        Assert.Equal(0, slower.ChangePoints(Flash)); // a fresh start: the catalog's prior keeps its full weight
    }

    [Fact]
    public void A_second_import_while_the_first_is_on_trial_is_judged_and_dropped_with_it()
    {
        // Two files learned when the service ran 1–2 s, loaded one after the other; the service now runs 3–6 s.
        var stats = new LatencyStatistics();
        stats.RecordInterval(Flash, 3.5, 4.0); // one wait of this client's own, before either import
        foreach (var learned in new[] { Learned(60, seed: 1), Learned(60, seed: 2) })
        {
            foreach (var model in learned.Export())
            {
                stats.Import(model);
            }
        }

        Assert.Equal(121, stats.Observations(Flash).Length);
        var truths = WaitDriver.Uniform(24, seed: 5, low: 3, high: 6);
        Assert.InRange(DroppedAfter(stats, truths, inFlight: 1), 1, 16);

        // Both imports are gone, not only the later one; what this client saw itself stays.
        var kept = stats.Observations(Flash);
        Assert.True(kept.Length <= 25, $"{kept.Length} observations kept");
        Assert.Contains(new CompletionObservation(3.5, 4.0), kept);
        Assert.All(kept, o => Assert.True(o.Upper > 2, $"a restored wait survived: {o}"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Times_that_still_hold_are_kept_even_when_a_burst_finishes_its_shortest_jobs_first(int seed)
    {
        // A burst of 100 jobs: its first completions are its shortest, which a check of completions against the
        // estimate read as a faster service (it dropped all but the newest 31–39 observations). Poll answers are not
        // biased so: they are judged instead. Restored and learned in this process alike.
        var restored = Restored(Learned(130, seed, low: 3, high: 6));
        Assert.Equal(-1, DroppedAfter(restored, WaitDriver.Uniform(100, seed + 100, 3, 6), inFlight: 100));
        Assert.Equal(230, restored.Observations(Flash).Length);

        var warm = Learned(130, seed, low: 3, high: 6);
        Assert.Equal(-1, DroppedAfter(warm, WaitDriver.Uniform(100, seed + 100, 3, 6), inFlight: 100));
        Assert.Equal(-1, DroppedAfter(warm, WaitDriver.Uniform(300, seed + 200, 3, 6), inFlight: 8));
    }

    [Fact]
    public void Restored_observations_count_as_older_than_the_instances_own_and_the_window_keeps_the_newest()
    {
        var stats = new LatencyStatistics(window: 8);
        stats.RecordInterval(Flash, 9, 10);
        stats.RecordInterval(Flash, 10, 11);
        var earlier = Enumerable.Range(1, 10).Select(i => new CompletionObservation(i, i + 0.5)).ToArray();
        stats.Import(Flash.Id, earlier);

        var seen = stats.Observations(Flash);
        Assert.Equal([.. earlier[4..], new(9, 10), new(10, 11)], seen);
    }

    [Fact]
    public async Task Waits_are_written_to_the_millisecond_with_null_for_a_wait_that_ended_first()
    {
        var stats = new LatencyStatistics();
        stats.RecordInterval(Flash, 3.12345, 4.00049);
        stats.RecordCensored(Flash, 7.5);
        var json = Encoding.UTF8.GetString(await Saved(stats, "https://api.example"));

        Assert.Contains("\"format\":\"nanobanana.completion-times/1\"", json);
        Assert.Contains("\"service\":\"https://api.example\"", json);
        Assert.Contains("\"waits\":[[3.123,4],[7.5,null]]", json);
        Assert.Equal([new(3.123, 4), new(7.5, double.PositiveInfinity)], (await Read(json)).Models.Single().Waits);
    }

    [Fact]
    public async Task Waits_shorter_than_half_a_millisecond_are_written_as_one_and_the_file_stays_readable()
    {
        // A job the submit's answer already reported done, on a fast service: it took a fraction of a millisecond by the
        // client's clock. Rounded to 0 it made the whole file unreadable (an upper bound must be above 0).
        var stats = new LatencyStatistics();
        stats.RecordExact(Flash, 0.0002);
        stats.RecordInterval(Flash, 0, 0.0004);
        stats.RecordCensored(Flash, 0.0003);
        var json = Encoding.UTF8.GetString(await Saved(stats));

        Assert.Contains("\"waits\":[[0.001,0.001],[0,0.001],[0.001,null]]", json);
        Assert.Equal(3, (await Read(json)).Waits);

        // A trusted report of such a job stays an exact wait inside its interval, so its entry reads back too.
        var trusted = new LatencyStatistics();
        for (var i = 0; i < LatencyStatistics.ReportConfirmations; i++)
        {
            trusted.RecordCompletion(Flash, 3.0, 4.0, 3.5);
        }

        Assert.Equal(ReportedTimeUse.Used, trusted.RecordCompletion(Flash, 0, 0.0004, 0.0002));
        var restored = (await Read(Encoding.UTF8.GetString(await Saved(trusted)))).Models.Single();
        Assert.Equal(new CompletionObservation(0.001, 0.001), restored.Waits[^1]);
        Assert.Equal(new ReportedWait(restored.Waits.Length - 1, new CompletionObservation(0, 0.001)), restored.FromReports[^1]);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("null", "empty")]
    [InlineData("""{"format":"other/2","models":[]}""", "format is 'other/2'")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"","waits":[]}]}""", "models[0].id")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[]},{"id":"M","waits":[]}]}""", "models[1].id 'M' appears twice")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[1,2],[3,2]]}]}""", "models[0].waits[1]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[-1,2]]}]}""", "models[0].waits[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[1,1e300]]}]}""", "models[0].waits[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[0,null]]}]}""", "models[0].waits[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[1,2,3]]}]}""", "models[0].waits[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[["NaN",2]]}]}""", "not valid JSON")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[null]}]}""", "models[0].waits[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[3,3]],"reports":{"confirmed":-1}}]}""", "models[0].reports.confirmed must be 0 to")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[3,3]],"reports":{"fromReports":[[1,2,4]]}}]}""", "models[0].reports.fromReports[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[2,4]],"reports":{"fromReports":[[0,2,4]]}}]}""", "models[0].reports.fromReports[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[3,3]],"reports":{"fromReports":[[0,3.5,4]]}}]}""", "models[0].reports.fromReports[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[3,3]],"reports":{"fromReports":[[0.5,2,4]]}}]}""", "models[0].reports.fromReports[0]")]
    [InlineData("""{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":[[3,3]],"reports":{"fromReports":[[0,2,null]]}}]}""", "models[0].reports.fromReports[0]")]
    public async Task A_document_that_is_not_a_plausible_history_is_refused_naming_what_is_wrong(string json, string expected)
    {
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => Read(json));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public async Task Reading_stops_at_the_size_limit_and_refuses_deep_nesting_and_too_many_models()
    {
        var huge = new ChunkedStream(CompletionTimesFile.MaxBytes + 1);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => CompletionTimesFile.ReadAsync(huge, CancellationToken.None));
        Assert.Contains("larger than", ex.Message);
        Assert.True(huge.Served <= CompletionTimesFile.MaxBytes + 81920, $"read {huge.Served} bytes");

        var deep = """{"format":"nanobanana.completion-times/1","models":[{"id":"m","waits":""" + new string('[', 200) + new string(']', 200) + "}]}";
        Assert.Contains("not valid JSON", (await Assert.ThrowsAsync<InvalidDataException>(() => Read(deep))).Message);

        var many = """{"format":"nanobanana.completion-times/1","models":[""" + string.Join(",", Enumerable.Range(0, 33).Select(i => $$"""{"id":"m{{i}}","waits":[]}""")) + "]}";
        Assert.Contains("33 models", (await Assert.ThrowsAsync<InvalidDataException>(() => Read(many))).Message);
    }

    [Fact]
    public async Task A_client_keeps_its_completion_times_in_the_file_and_a_restarted_client_starts_from_them()
    {
        await using var emulator = await Emu.StartAsync();
        var file = Path.Combine(_dir, "cache", "times.json");
        IReadOnlyList<CompletionObservation> before;
        using (var first = Emu.Client(emulator, o => o.Polling.CompletionTimesFile = file))
        {
            for (var i = 0; i < CompletionTimesStore.SaveEvery + 2; i++)
            {
                await first.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana });
            }

            // Written in the background once SaveEvery observations were new, before the client is disposed.
            for (var i = 0; i < 200 && !File.Exists(file); i++)
            {
                await Task.Delay(50);
            }

            Assert.True(File.Exists(file), "the file should be written after SaveEvery observations");
            before = first.LatencyStatistics.Observations(Flash);
        }

        var text = await File.ReadAllTextAsync(file);
        Assert.DoesNotContain(Emu.Key, text);
        Assert.Contains(Flash.Id, text);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, "*.tmp"));

        var logs = new CapturingLoggerProvider();
        using var second = Emu.Client(emulator, o => o.Polling.CompletionTimesFile = file, logs);
        var restored = second.LatencyStatistics.Observations(Flash);
        Assert.Equal(CompletionTimesStore.SaveEvery + 2, restored.Length);
        Assert.Equal(before.Select(o => (Math.Round(o.Lower, 3), Math.Round(o.Upper, 3))), restored.Select(o => (o.Lower, o.Upper)));
        Assert.Contains(logs.Entries, e => e.Message.Contains($"Loaded {restored.Length} completion times", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Disposing_asynchronously_writes_what_is_unsaved_and_twice_is_harmless()
    {
        await using var emulator = await Emu.StartAsync();
        var file = Path.Combine(_dir, "times.json");
        var client = Emu.Client(emulator, o => o.Polling.CompletionTimesFile = file);
        for (var i = 0; i < 3; i++)
        {
            await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana });
        }

        Assert.False(File.Exists(file), "fewer than SaveEvery observations: nothing written yet");
        await client.DisposeAsync();
        await client.DisposeAsync();
        client.Dispose();

        await using (var stream = File.OpenRead(file))
        {
            Assert.Equal(3, (await CompletionTimesFile.ReadAsync(stream, CancellationToken.None)).Waits);
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GenerateAsync(new ImageJob("a lamp")));
    }

    [Fact]
    public async Task Two_clients_sharing_one_file_never_leave_it_torn()
    {
        // Documented as one file per client; two app instances pointed at one path must still not corrupt it or fail.
        await using var emulator = await Emu.StartAsync();
        var file = Path.Combine(_dir, "shared.json");
        var logs = new CapturingLoggerProvider();
        var clients = new[] { Emu.Client(emulator, o => o.Polling.CompletionTimesFile = file, logs), Emu.Client(emulator, o => o.Polling.CompletionTimesFile = file, logs) };
        var jobs = CompletionTimesStore.SaveEvery * 3;
        await Task.WhenAll(clients.Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < jobs; i++)
            {
                await c.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana });
            }
        })));

        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));

        // The last writer wins, whole: one client's waits, never a mixture or a torn document. Each client kept all its
        // waits unless its change detector saw the service change (on a loaded machine a few-millisecond job's times
        // can look like that) and dropped the older ones; CI once met 16 of 48 so. So the file holds what one of the
        // clients kept, not a fixed count.
        var kept = clients.Select(c => c.LatencyStatistics.Observations(Flash).Length).ToArray();
        Assert.All(kept, k => Assert.InRange(k, CompletionTimesStore.SaveEvery, jobs));
        await using (var stream = File.OpenRead(file))
        {
            Assert.Contains((await CompletionTimesFile.ReadAsync(stream, CancellationToken.None)).Waits, kept);
        }

        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("not saved", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_file_learned_from_another_service_or_unreadable_is_ignored_and_replaced_never_fatal()
    {
        await using var emulator = await Emu.StartAsync();
        await using var other = await Emu.StartAsync();
        var file = Path.Combine(Directory.CreateDirectory(_dir).FullName, "times.json");
        await File.WriteAllBytesAsync(file, await Saved(Learned(40), "https://somewhere.else"));

        var logs = new CapturingLoggerProvider();
        using (var client = Emu.Client(emulator, o => o.Polling.CompletionTimesFile = file, logs))
        {
            Assert.Empty(client.LatencyStatistics.Observations(Flash));
            Assert.Contains(logs.Entries, e => e.Message.Contains("were learned from https://somewhere.else", StringComparison.Ordinal));
            await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana });
        }

        // Replaced on dispose with what this client saw, for its own service.
        var saved = await CompletionTimesFile.ReadAsync(File.OpenRead(file), CancellationToken.None);
        Assert.Equal(CompletionTimesStore.Service(emulator.ApiBaseUrl), saved.Service);
        Assert.Single(saved.Models.Single().Waits);

        using (var elsewhere = Emu.Client(other, o => o.Polling.CompletionTimesFile = file))
        {
            Assert.Empty(elsewhere.LatencyStatistics.Observations(Flash));
        }

        await File.WriteAllTextAsync(file, "{\"format\":\"nanobanana.completion-times/1\",\"models\":[{\"id\":\"x\",\"waits\":[[5,1]]}]}");
        logs = new CapturingLoggerProvider();
        using (var client = Emu.Client(emulator, o => o.Polling.CompletionTimesFile = file, logs))
        {
            Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("models[0].waits[0]", StringComparison.Ordinal));
            var result = await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana });
            Assert.NotEmpty(result.PredictionId);
        }

        Assert.Single((await CompletionTimesFile.ReadAsync(File.OpenRead(file), CancellationToken.None)).Models.Single().Waits);
    }

    [Fact]
    public async Task The_stream_api_round_trips_and_a_bad_document_adds_nothing()
    {
        await using var emulator = await Emu.StartAsync();
        using var first = Emu.Client(emulator);
        for (var i = 0; i < 3; i++)
        {
            await first.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana });
        }

        using var saved = new MemoryStream();
        await first.SaveCompletionTimesAsync(saved);
        using var second = Emu.Client(emulator);
        saved.Position = 0;
        Assert.Equal(3, await second.LoadCompletionTimesAsync(saved));
        Assert.Equal(3, second.LatencyStatistics.Observations(Flash).Length);

        var bad = new MemoryStream(Encoding.UTF8.GetBytes("{\"format\":\"nanobanana.completion-times/1\",\"models\":[{\"id\":\"a\",\"waits\":[[1,2]]},{\"id\":\"b\",\"waits\":[[2,1]]}]}"));
        await Assert.ThrowsAsync<InvalidDataException>(() => second.LoadCompletionTimesAsync(bad));
        Assert.DoesNotContain(second.LatencyStatistics.Export(), m => m.Id == "a");
    }

    [Fact]
    public async Task A_file_behind_a_symbolic_link_is_replaced_and_the_link_kept()
    {
        // The rename that replaces the file whole used to replace the link itself with a regular file.
        await using var emulator = await Emu.StartAsync();
        Directory.CreateDirectory(Path.Combine(_dir, "real"));
        var real = Path.Combine(_dir, "real", "times.json");
        var link = Path.Combine(_dir, "times.json");
        File.CreateSymbolicLink(link, real);
        var client = Emu.Client(emulator, o => o.Polling.CompletionTimesFile = link);
        await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana });
        await client.DisposeAsync();

        Assert.Equal(real, new FileInfo(link).LinkTarget);
        await using var stream = File.OpenRead(real);
        Assert.Equal(1, (await CompletionTimesFile.ReadAsync(stream, CancellationToken.None)).Waits);
    }

    [UnixFact]
    public void A_file_setting_in_a_tree_of_devices_or_on_a_folder_is_refused_naming_the_key()
    {
        // Run as root, "/dev/null" as the times file replaced the device with a regular file: every later
        // "> /dev/null" on the machine failed. Checked without writing anything.
        var options = new NanoBananaOptions { ApiKey = "k" };
        options.Polling.CompletionTimesFile = "/dev/null";
        Assert.Contains(options.Validate(), e => e.StartsWith("NanoBanana:Polling:CompletionTimesFile: '/dev/null' is under /dev, a tree of devices and kernel files", StringComparison.Ordinal));
        Assert.Throws<IOException>(() => Diagnostics.ReplaceableFile.Resolve("/proc/self/times.json"));
        Directory.CreateDirectory(_dir);
        options.Polling.CompletionTimesFile = _dir;
        Assert.Contains(options.Validate(), e => e.Contains($"'{_dir}' is a folder", StringComparison.Ordinal));

        // A link into /dev counts as /dev.
        var link = Path.Combine(_dir, "sink.json");
        File.CreateSymbolicLink(link, "/dev/null");
        var ex = Assert.Throws<IOException>(() => Diagnostics.ReplaceableFile.Resolve(link));
        Assert.Contains("is under /dev", ex.Message, StringComparison.Ordinal);
        Assert.True(File.Exists("/dev/null") && new FileInfo("/dev/null").Length == 0);
    }

    [Fact]
    public void An_empty_file_setting_is_refused_naming_the_key()
    {
        var options = new NanoBananaOptions { ApiKey = "k" };
        options.Polling.CompletionTimesFile = " ";
        Assert.Contains(options.Validate(), e => e.Contains("NanoBanana:Polling:CompletionTimesFile", StringComparison.Ordinal));
    }
}
