using System.Diagnostics;
using System.Text.RegularExpressions;
using NanoBanana.Catalog;
using NanoBanana.Emulator;
using NanoBanana.Soak;

namespace NanoBanana.Tests;

/// <summary>
/// The standalone emulator (the <c>nanobanana-emulator</c> tool) as a newcomer runs it, as a process: help, argument
/// errors without stack traces, a job from another process, and a clean stop on SIGTERM.
/// </summary>
public partial class EmulatorAppTests
{
    private static ProcessStartInfo StartInfo(params string[] args) => DotnetApp.StartInfo("nanobanana-emulator.dll", args);

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Help_lists_the_options()
    {
        var (code, output, _) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Contains("nanobanana-emulator", output);
        Assert.Contains("--time-scale <X>", output);
        Assert.Contains("--report-execution-time", output);
        Assert.Contains("--execution-time-factor <X>", output);
        Assert.Contains("--latency <SHAPE>", output);
        foreach (var option in new[] { "--fault-target <any|submit|poll>", "--queued-status <S>", "--running-status <S>", "--completed-status <S>", "--failed-status <S>", "--lean-polls", "--urls-array", "--output-urls <absolute|root-relative|scheme-relative>", "--iso-timestamps", "--output-content-type <T>", "--request-delay <MS>", "--seed <N>" })
        {
            Assert.Contains(option, output);
        }

        Assert.Contains("SIGTERM", output);
    }

    [Theory]
    [InlineData("--port", "abc", "--port must be a whole number from 0 to 65535 (got 'abc')")]
    [InlineData("--port", "70000", "--port must be a whole number from 0 to 65535 (got '70000')")]
    [InlineData("--time-scale", "-1", "--time-scale must be a number above 0")]
    [InlineData("--time-scale", "1e9", "--time-scale must be a number above 0 and at most 1000")]
    [InlineData("--fault-rate", "2", "--fault-rate must be a number from 0 to 1")]
    [InlineData("--colour", "red", "'--colour'")]
    [InlineData("--execution-time-factor", "0", "--execution-time-factor must be a number above 0")]
    [InlineData("--latency", "bimodal", "--latency must be uniform, lognormal or two-mode (got 'bimodal')")]
    [InlineData("--fault-target", "uploads", "--fault-target must be any, submit or poll (got 'uploads')")]
    [InlineData("--output-urls", "relative", "--output-urls must be absolute, root-relative or scheme-relative (got 'relative')")]
    [InlineData("--request-delay", "20000", "--request-delay must be a number of milliseconds from 0 to 10000 (got '20000')")]
    [InlineData("--seed", "-3", "--seed must be a whole number from 0 to 2147483647 (got '-3')")]
    [InlineData("--running-status", "completed", "--running-status must name a status that is not terminal (got \"completed\")")]
    [InlineData("--queued-status", "failed", "--queued-status must name a status that is not terminal (got \"failed\")")]
    [InlineData("--completed-status", "processing", "--completed-status must name a status of its own, not empty and unlike the other three (got \"processing\")")]
    [InlineData("--failed-status", "completed", "--failed-status must name a status of its own, not empty and unlike the other three (got \"completed\")")]
    public async Task Bad_arguments_exit_2_with_a_message_and_no_stack_trace(string option, string value, string expected)
    {
        var (code, _, error) = await RunAsync(option, value);
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.Contains("--help", error);
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("System.", error);
    }

    [Fact]
    public async Task A_port_in_use_fails_the_start_with_the_servers_own_error_and_leaves_the_port_to_its_owner()
    {
        // The failed start now disposes what it had built; what must not change is what the caller hears (the bind error,
        // not one from the disposal) and that the emulator already on that port serves on.
        await using var owner = await Emu.StartAsync();
        var port = owner.BaseAddress.Port;
        for (var i = 0; i < 3; i++)
        {
            var ex = await Assert.ThrowsAsync<IOException>(() => NanoBananaEmulator.StartAsync(new EmulatorOptions { Port = port }));
            Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        }

        using var client = Emu.Client(owner);
        Assert.NotEmpty((await client.GenerateAsync(new ImageJob("a lamp"))).Images);
    }

    [Fact]
    public async Task The_library_refuses_a_time_scale_outside_its_range_naming_it()
    {
        // 1e300 used to start, then fail in the client's catalog ("TypicalLatencyMinSeconds is 3E+300") or overflow.
        var start = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = 1e300 }));
        Assert.Contains("EmulatorOptions.TimeScale must be above 0 and at most 1000 (got 1E+300).", start.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => NanoBananaEmulator.StartAsync(new EmulatorOptions { TimeScale = double.NaN }));
        var scale = Assert.Throws<ArgumentOutOfRangeException>(() => NanoBananaEmulator.ScaleClient(new NanoBananaOptions(), 0));
        Assert.Contains("timeScale must be above 0 and at most 1000 (got 0).", scale.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_library_refuses_settings_that_cannot_work_naming_each_one()
    {
        // These used to start an emulator that behaved oddly: a fault rate of 2, a negative sigma, a slow share above 1.
        var options = new EmulatorOptions
        {
            FaultRate = 2,
            Port = -1,
            ApiKey = " ",
            ExecutionTimeFactor = 0,
            WebhookAttempts = 0,
            DripInterval = TimeSpan.Zero,
            RandomFaultTarget = FaultTarget.Upload,
            QueuedStatus = " ",
            RequestDelay = TimeSpan.FromSeconds(11),
            RunningStatus = "Completed",
            FailedStatus = "",
            Latency = new LatencyProfile { Sigma = -1, SlowShare = 1.5, SlowFactorMin = 3, SlowFactorMax = 2, DriftFactor = double.NaN },
        };
        options.LatencyByModel["gemini-3-pro-image-preview"] = new LatencyProfile { DriftAfterJobs = -1 };
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => NanoBananaEmulator.StartAsync(options));
        foreach (var expected in new[]
        {
            "EmulatorOptions.FaultRate must be from 0 to 1 (got 2).",
            "EmulatorOptions.Port must be from 0 (a free port) to 65535 (got -1).",
            "EmulatorOptions.ApiKey must be null (any key is accepted) or a key, not empty.",
            "EmulatorOptions.ExecutionTimeFactor must be above 0 (got 0).",
            "EmulatorOptions.WebhookAttempts must be at least 1 (got 0).",
            "EmulatorOptions.DripInterval must be above 0 (got 00:00:00).",
            "EmulatorOptions.RandomFaultTarget must be Any, Submit or Poll (got Upload); random faults never hit uploads.",
            "EmulatorOptions.QueuedStatus must name a status that is not terminal (got \" \").",
            "EmulatorOptions.RequestDelay must be at most 10 s (got 00:00:11).",
            "EmulatorOptions.RunningStatus must name a status that is not terminal (got \"Completed\").",
            "EmulatorOptions.FailedStatus must name a status of its own, not empty and unlike the other three (got \"\").",
            "EmulatorOptions.Latency.Sigma must be above 0 (got -1).",
            "EmulatorOptions.Latency.SlowShare must be from 0 to 1 (got 1.5).",
            "EmulatorOptions.Latency: need 1 <= SlowFactorMin <= SlowFactorMax (got 3 and 2).",
            "EmulatorOptions.Latency.DriftFactor must be above 0 (got NaN).",
            "EmulatorOptions.LatencyByModel[\"gemini-3-pro-image-preview\"].DriftAfterJobs must be 0 or more (got -1).",
        })
        {
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }

        // The defaults, and the shapes the benchmarks use, start.
        await using var fine = await NanoBananaEmulator.StartAsync(new EmulatorOptions { MaxLogEntries = 0, Latency = new LatencyProfile { Shape = LatencyShape.Drift, DriftAfterJobs = 0, DriftFactor = 1 / 3.0 } });
    }

    [Fact]
    public async Task A_request_delay_holds_every_request_as_a_network_would()
    {
        // A lower bound only: a loaded machine makes requests slower, never faster.
        await using var emulator = await Emu.StartAsync(o => o.RequestDelay = TimeSpan.FromMilliseconds(200));
        using var client = Emu.Client(emulator);
        var clock = Stopwatch.StartNew();
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp"));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(195), $"the submit took {clock.Elapsed.TotalMilliseconds:0} ms");
        clock.Restart();
        await operation.UpdateStatusAsync();
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(195), $"the poll took {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Random_faults_aimed_at_polls_leave_every_submit_alone()
    {
        // A flaky service whose submits always answer: every job completes, each accepted once, none refused or unknown,
        // while about a third of the polls fail and are ridden out.
        await using var emulator = await Emu.StartAsync(o =>
        {
            (o.FaultRate, o.RandomFaultTarget, o.Seed) = (0.3, FaultTarget.Poll, 3);
            foreach (var kind in new[] { FaultKind.Unavailable, FaultKind.DropConnection, FaultKind.MalformedJson })
            {
                o.RandomFaults.Add(kind);
            }
        });
        using var client = Emu.Client(emulator);
        var jobs = 0;
        while (jobs < 60 && (jobs < 12 || emulator.Requests.Count(r => r.Kind == "poll" && r.Fault is not null) < 3))
        {
            await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana2 });
            jobs++;
        }

        Assert.Equal(jobs, emulator.AcceptedSubmits);
        Assert.All(emulator.Requests.Where(r => r.Kind == "submit"), r => Assert.Null(r.Fault));
        Assert.True(emulator.Requests.Count(r => r.Kind == "poll" && r.Fault is not null) >= 3, "too few polls were hit: the test proves nothing");
    }

    [Fact]
    public async Task A_fault_rate_with_no_kinds_chosen_draws_from_every_kind()
    {
        // FaultRate alone used to inject nothing, silently: only a filled RandomFaults list did (the tool and the soak
        // filled it themselves). Every submit below is hit; which kind is the emulator's draw.
        await using var emulator = await NanoBananaEmulator.StartAsync(new EmulatorOptions
        {
            TimeScale = 0.001, FaultRate = 1, Seed = 1, ApiKey = Emu.Key,
            SlowSubmitDelay = TimeSpan.FromMilliseconds(50), DripDuration = TimeSpan.FromMilliseconds(200), DripInterval = TimeSpan.FromMilliseconds(20),
        });
        using var client = Emu.Client(emulator, o => { o.Retry.MaxRetries = 0; o.Deadline = TimeSpan.FromSeconds(5); });
        for (var i = 0; i < 6; i++)
        {
            try
            {
                await client.GenerateAsync(new ImageJob("a lamp"));
            }
            catch (NanoBananaException)
            {
            }
        }

        var submits = emulator.Requests.Where(r => r.Kind == "submit").ToArray();
        Assert.NotEmpty(submits);
        Assert.All(submits, r => Assert.NotNull(r.Fault));
        Assert.True(submits.Select(r => r.Fault).Distinct().Count() > 1, "more than one kind is drawn");
    }

    [Fact]
    public async Task Serves_a_client_in_another_process_and_stops_cleanly_on_sigterm()
    {
        // A world unlike the defaults: two modes, executionTime reported in seconds where milliseconds are read.
        using var process = Process.Start(StartInfo("--port", "0", "--time-scale", "0.05", "--latency", "two-mode", "--report-execution-time", "--execution-time-factor", "0.001"))!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // The first line names the address it listens on.
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var url = ListeningOn().Match(first ?? "");
            Assert.True(url.Success, $"no address in '{first}'");

            using var client = new NanoBananaClient(new NanoBananaOptions { ApiKey = "any", BaseUrl = new Uri(url.Value) });
            var result = await client.GenerateAsync(new ImageJob("a lighthouse at dusk") { PinnedTier = ImageTier.NanoBanana });
            var png = await result.Images[0].GetBytesAsync();
            Assert.Equal((1024, 1024), PngWriter.ReadSize(png));
            Assert.True(result.ServerExecutionTime < TimeSpan.FromMilliseconds(10), $"reported {result.ServerExecutionTime}"); // seconds, read as ms

            Assert.Equal(0, Kill("-TERM", process.Id));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var rest = await process.StandardOutput.ReadToEndAsync();
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; stdout: {rest}; stderr: {await stderr}");
            Assert.Contains("Emulator stopped (1 job accepted)", rest);
            Assert.Contains("So that it polls to match time scale 0.05: NanoBananaEmulator.ScaleClient(options, 0.05)", rest); // read after the first line
            Assert.DoesNotContain("   at ", await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [Fact]
    public async Task Listens_where_its_options_say_whatever_the_folder_s_appsettings_or_the_environment_say()
    {
        // Run in a web app's folder, the emulator read that app's appsettings.json (and ASPNETCORE_ variables) and
        // listened on the app's Kestrel endpoint, taking the app's port or failing it, whatever --port said.
        using var folder = new TempFolder("nb-emulator-settings-");
        var (configured, fromEnvironment) = (LoopbackPort.Free(), LoopbackPort.Free());
        File.WriteAllText(Path.Combine(folder.FullName, "appsettings.json"),
            $$"""{ "Kestrel": { "Endpoints": { "App": { "Url": "http://127.0.0.1:{{configured}}" } } } }""");
        var start = StartInfo("--port", "0");
        start.WorkingDirectory = folder.FullName;
        start.Environment["ASPNETCORE_Kestrel__Endpoints__Other__Url"] = $"http://127.0.0.1:{fromEnvironment}";
        using var process = Process.Start(start)!;
        try
        {
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var url = ListeningOn().Match(first ?? "");
            Assert.True(url.Success, $"no address in '{first}'");
            Assert.DoesNotContain(new Uri(url.Value).Port, new[] { configured, fromEnvironment });
            foreach (var port in new[] { configured, fromEnvironment })
            {
                // Nothing of the emulator's holds them: the app they belong to could take them.
                var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [Fact]
    public async Task Acts_a_service_unlike_the_documented_one_for_clients_in_other_processes()
    {
        // Every option for a service that is not the documented one, as another process sees it over HTTP.
        using var process = Process.Start(StartInfo(
            "--port", "0", "--time-scale", "0.05", "--seed", "7", "--fault-rate", "0.3", "--fault-target", "poll",
            "--queued-status", "queued", "--running-status", "running", "--completed-status", "succeeded", "--lean-polls", "--urls-array", "--iso-timestamps",
            "--output-urls", "root-relative", "--output-content-type", "binary/octet-stream", "--request-delay", "200"))!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var url = ListeningOn().Match(first ?? "");
            Assert.True(url.Success, $"no address in '{first}'; stderr: {(process.HasExited ? await stderr : "")}");
            var baseUrl = new Uri(url.Value);

            // The library reads it all: statuses as sent, lean polls, faults on polls only, relative output URLs labelled generically.
            var options = NanoBananaEmulator.ScaleClient(new NanoBananaOptions { ApiKey = "any", BaseUrl = baseUrl }, 0.05);
            options.StatusAliases["succeeded"] = "completed"; // the service's word for the end, mapped
            using var client = new NanoBananaClient(options);
            var statuses = new List<string>();
            var result = await client.GenerateAsync(new ImageJob("a lighthouse") { PinnedTier = ImageTier.NanoBanana }, new SyncProgress<NanoBanana.Polling.GenerationProgress>(p => statuses.Add(p.Status.Value)));
            Assert.Equal((1024, 1024), PngWriter.ReadSize(await result.Images[0].GetBytesAsync()));
            Assert.Equal(["queued", "completed"], statuses.Distinct().Where(s => s != "running")); // as sent, "succeeded" as mapped (a poll may or may not see it running)

            // On the wire: three submits all answered (faults aim at polls), urls as an array, ISO timestamps.
            using var http = new HttpClient { BaseAddress = baseUrl };
            http.DefaultRequestHeaders.Authorization = new("Bearer", "any");
            string? id = null;
            for (var i = 0; i < 3; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var submit = await http.PostAsync("google/gemini-2.5-flash-image/text-to-image", new StringContent("""{"prompt":"a lamp"}""", System.Text.Encoding.UTF8, "application/json"));
                Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(190), "the request delay was not applied"); // a lower bound only
                var body = await submit.Content.ReadAsStringAsync();
                Assert.Equal(System.Net.HttpStatusCode.OK, submit.StatusCode);
                Assert.Contains("\"status\":\"queued\"", body);
                Assert.Contains("\"urls\":[", body);
                Assert.Matches("\"created_at\":\"\\d{4}-\\d{2}-\\d{2}T", body);
                id = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("id").GetString();
            }

            // A lean poll answer: the status and outputs, no id. Polls may meet a fault (a 503, a dropped connection, ...).
            string? poll = null;
            for (var tries = 0; tries < 50 && poll is null; tries++)
            {
                try
                {
                    using var answer = await http.GetAsync($"predictions/{Uri.EscapeDataString(id!)}/result");
                    var text = await answer.Content.ReadAsStringAsync();
                    if (answer.IsSuccessStatusCode && text.Contains("\"succeeded\"", StringComparison.Ordinal))
                    {
                        poll = text;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(100);
            }

            Assert.NotNull(poll);
            var data = System.Text.Json.JsonDocument.Parse(poll).RootElement.GetProperty("data");
            Assert.False(data.TryGetProperty("id", out _), poll);
            var output = data.GetProperty("outputs")[0].GetString()!;
            Assert.StartsWith("/outputs/", output, StringComparison.Ordinal); // relative to the origin, which the library resolved above
            using var download = await http.GetAsync(output);
            Assert.Equal("binary/octet-stream", download.Content.Headers.ContentType?.MediaType);

            Assert.Equal(0, Kill("-TERM", process.Id));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("Emulator stopped (4 jobs accepted)", await process.StandardOutput.ReadToEndAsync());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    private static int Kill(string signal, int pid)
    {
        using var kill = Process.Start("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return kill.ExitCode;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/api/v3/")]
    private static partial Regex ListeningOn();
}
