using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NanoBanana.DependencyInjection;
using NanoBanana.Diagnostics;
using NanoBanana.Catalog;
using NanoBanana.Emulator;
using NanoBanana.Extensions.AI;

namespace NanoBanana.Tests;

/// <summary>DI and options, configuration binding, telemetry, and the Microsoft.Extensions.AI adapter.</summary>
public class EcosystemTests
{
    private static IConfiguration Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    [Fact]
    public async Task AddNanoBanana_from_configuration_resolves_a_working_singleton_client()
    {
        await using var emulator = await Emu.StartAsync();
        var config = Json("""
            {"NanoBanana":{"ApiKey":"KEY","BaseUrl":"URL","Provider":"WaveSpeed",
              "Deadline":"00:00:30",
              "Catalog":{"Models":{"NanoBananaPro":{"Id":"gemini-3-pro-image","Prices":{"1K":0.0804,"2K":0.1,"4K":0.2}}}},
              "Polling":{"TargetMeanLag":"00:00:00.0005","MinInterval":"00:00:00.001","MaxInterval":"00:00:00.010"},
              "Retry":{"MaxRetries":2}}}
            """.Replace("KEY", Emu.Key).Replace("URL", emulator.ApiBaseUrl.ToString()));
        var services = new ServiceCollection();
        services.AddNanoBanana(config.GetSection("NanoBanana"));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var client = provider.GetRequiredService<INanoBananaClient>();
        Assert.Same(client, provider.GetRequiredService<INanoBananaClient>());
        var concrete = Assert.IsType<NanoBananaClient>(client);
        Assert.Equal(ApiProvider.WaveSpeed, concrete.Options.Provider);
        Assert.Equal("gemini-3-pro-image", concrete.Catalog[ImageTier.NanoBananaPro].Id);
        Assert.Equal(0.0804m, concrete.Catalog[ImageTier.NanoBananaPro].PricesUsd[ImageSize.OneK]);
        Assert.Equal(2, concrete.Options.Retry.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(30), concrete.Options.Deadline);

        var result = await client.GenerateAsync(new ImageJob("x"));
        Assert.NotNull(result.PredictionId);
        Assert.Equal("Bearer", emulator.Requests.First(r => r.Kind == "submit").AuthorizationScheme);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_http_client_factorys_trace_logs_never_show_the_key_even_when_the_caller_redacts_headers_of_their_own(bool ownRedaction)
    {
        // IHttpClientFactory lists request headers at Trace. A caller's RedactLoggedHeaders(["X-Mine"]) replaced its
        // redact-everything default, and the key went into those lines in full (Authorization: sk-...).
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var builder = services.AddNanoBanana(o => { emulator.ConfigureClient(o); o.ApiKey = Emu.Key; });
        if (ownRedaction)
        {
            builder.HttpClient.RedactLoggedHeaders(["X-Mine"]);
        }

        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<INanoBananaClient>().GenerateAsync(new ImageJob("a lamp"));

        var headerLines = logs.Entries.Where(e => e.Category.StartsWith("System.Net.Http.HttpClient.NanoBanana", StringComparison.Ordinal) && e.Message.Contains("Authorization", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(headerLines); // the lines that would carry it are there
        Assert.All(headerLines, e => Assert.Contains("Authorization: *", e.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(Emu.Key, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("wavespeed")]
    public async Task Registering_a_client_twice_merges_its_settings_and_keeps_one_transport(string name)
    {
        // A library of the app's and the app itself may both register the client. The second call stacked a second
        // resilience handler on the named HttpClient, squaring every retry budget.
        await using var emulator = await Emu.StartAsync();
        var services = new ServiceCollection();
        void First(NanoBananaOptions o)
        {
            emulator.ConfigureClient(o);
            o.ApiKey = Emu.Key;
        }

        void Second(NanoBananaOptions o) => o.Deadline = TimeSpan.FromSeconds(42);
        if (name.Length == 0)
        {
            services.AddNanoBanana(First);
            services.AddNanoBanana(Second);
        }
        else
        {
            services.AddNanoBanana(name, null, First);
            services.AddNanoBanana(name, null, Second);
        }

        await using var provider = services.BuildServiceProvider();
        var httpName = name.Length == 0 ? "NanoBanana" : "NanoBanana:" + name;
        var factory = provider.GetRequiredService<IOptionsMonitor<Microsoft.Extensions.Http.HttpClientFactoryOptions>>().Get(httpName);
        Assert.Equal(3, factory.HttpMessageHandlerBuilderActions.Count); // the primary handler, the step that leaves out app-wide resilience handlers and one resilience handler, as after one call
        Assert.Single(services, d => d.ServiceType == typeof(INanoBananaClient) && Equals(d.ServiceKey, name.Length == 0 ? null : name));

        var client = name.Length == 0 ? provider.GetRequiredService<NanoBananaClient>() : provider.GetRequiredKeyedService<NanoBananaClient>(name);
        Assert.Equal(TimeSpan.FromSeconds(42), client.Options.Deadline); // both calls' settings
        Assert.Equal(emulator.ApiBaseUrl, client.Options.EffectiveBaseUrl);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
    }

    [Fact]
    public async Task UseEmulator_points_a_registered_client_at_an_in_process_emulator_with_its_time_scale()
    {
        var services = new ServiceCollection();
        services.AddNanoBanana(o => o.Deadline = TimeSpan.FromSeconds(30)).UseEmulator(o => o.TimeScale = 0.001);
        NanoBananaEmulator emulator;
        await using (var provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            var client = provider.GetRequiredService<NanoBananaClient>();
            emulator = provider.GetRequiredKeyedService<NanoBananaEmulator>(Microsoft.Extensions.Options.Options.DefaultName);
            Assert.Equal(emulator.ApiBaseUrl, client.Options.EffectiveBaseUrl);
            Assert.True(client.Catalog[ImageTier.NanoBanana2].TypicalLatencyMax < TimeSpan.FromSeconds(1)); // scaled like the emulator
            var result = await client.GenerateAsync(new ImageJob("a lamp"));
            Assert.Equal(1, emulator.AcceptedSubmits);
            Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        }

        // The container stopped it.
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(emulator.ApiBaseUrl));
    }

    [Fact]
    public async Task The_readmes_configuration_sample_runs_against_the_emulator_as_pasted()
    {
        await using var emulator = await Emu.StartAsync(o => o.ApiKey = null);
        var readme = File.ReadAllText(Path.Combine(ArchitectureTests.RepoRoot(), "README.md"));
        var start = readme.IndexOf("```json", StringComparison.Ordinal) + "```json".Length;
        var json = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)]
            .Replace("https://gptproto.com/api/v3/", emulator.ApiBaseUrl.ToString(), StringComparison.Ordinal); // only the address changes
        var services = new ServiceCollection();
        services.AddNanoBanana(Json(json).GetSection("NanoBanana"));
        services.PostConfigure<NanoBananaOptions>(o => NanoBananaEmulator.ScaleClient(o, 0.001)); // and the client knows the emulator's pace
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate(); // no unknown key, no invalid value
        var client = provider.GetRequiredService<INanoBananaClient>();
        var result = await client.GenerateAsync(new ImageJob("a jazz poster") { TypographyCritical = true, Size = ImageSize.TwoK, Deadline = TimeSpan.FromMinutes(1) });
        Assert.Equal("gemini-3-pro-image", result.Model.Id); // the sample's Pro id is the stable successor; the emulator knows it
    }

    [Fact]
    public async Task Status_aliases_bind_from_configuration_ignore_case_and_are_kept_as_they_were_at_construction()
    {
        await using var emulator = await Emu.StartAsync(o => o.CompletedStatus = "succeeded");
        var services = new ServiceCollection();
        services.AddNanoBanana(Json("{\"NanoBanana\":{\"ApiKey\":\"k\",\"StatusAliases\":{\"Succeeded\":\"completed\"}}}").GetSection("NanoBanana"));
        services.PostConfigure<NanoBananaOptions>(o => (o.BaseUrl, o.ApiKey) = (emulator.ApiBaseUrl, Emu.Key));
        services.PostConfigure<NanoBananaOptions>(o => NanoBananaEmulator.ScaleClient(o, 0.001));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate(); // a known key, a valid value
        var client = provider.GetRequiredService<NanoBananaClient>();
        Assert.Equal("completed", client.Options.StatusAliases["SUCCEEDED"]);
        provider.GetRequiredService<IOptionsMonitor<NanoBananaOptions>>().CurrentValue.StatusAliases.Clear(); // later changes do not reach the client

        var result = await client.GenerateAsync(new ImageJob("a lamp") { Deadline = TimeSpan.FromMinutes(1) });
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
    }

    [Theory]
    [InlineData("""{"Provider":"Nope","ApiKey":"k"}""", "Provider")]
    [InlineData("""{"BaseUrl":"http://api.example.com/api/v3/","ApiKey":"k"}""", "plain http")]
    [InlineData("""{"ApiKey":"k","Deadline":"-00:00:01"}""", "Deadline must be positive")]
    [InlineData("""{"ApiKey":"k","Catalog":{"Models":{"NanoBanana2":{"Prices":{"1K":-1}}}}}""", "must be zero or more")]
    [InlineData("""{"ApiKey":"k","Polling":{"MinInterval":"00:00:05","MaxInterval":"00:00:01"}}""", "MinInterval <= MaxInterval")]
    [InlineData("""{"ApiKey":"k","Dedline":"00:00:30"}""", "NanoBanana:Dedline is not a setting (did you mean NanoBanana:Deadline?)")]
    [InlineData("""{"ApiKey":"k","Retry":{"MaxRetrys":2}}""", "NanoBanana:Retry:MaxRetrys is not a setting (did you mean NanoBanana:Retry:MaxRetries?)")]
    [InlineData("""{"ApiKey":"k","Catalog":{"Models":{"NanoBanana2":{"Prize":{"1K":0.1}}}}}""", "NanoBanana:Catalog:Models:NanoBanana2:Prize is not a setting (did you mean NanoBanana:Catalog:Models:NanoBanana2:Prices?)")]
    [InlineData("""{"ApiKey":"k","Deadline":"60.00:00:00"}""", "NanoBanana:Deadline must be positive and at most 7 days (got 60.00:00:00)")]
    [InlineData("""{"ApiKey":"k","Retry":{"AttemptTimeout":"2.00:00:00"}}""", "NanoBanana:Retry:AttemptTimeout is 2.00:00:00; it must be positive and at most 1 day")]
    [InlineData("""{"ApiKey":"k","Retry":{"MaxDelay":"10.00:00:00"}}""", "NanoBanana:Retry:MaxDelay is 10.00:00:00; it must be at most 1 day")]
    [InlineData("""{"ApiKey":"k","Limits":{"MaxJsonBytes":9223372036854775807}}""", "NanoBanana:Limits:MaxJsonBytes must be between 1024 and 2^30 (got 9223372036854775807)")]
    [InlineData("""{"ApiKey":"k","Limits":{"DownloadTimeout":"3.00:00:00"}}""", "NanoBanana:Limits:DownloadTimeout must be positive and at most 1 day")]
    [InlineData("""{"ApiKey":"k","Polling":{"LatencyWindow":2147483647}}""", "NanoBanana:Polling:LatencyWindow must be between 8 and 100,000 (got 2147483647)")]
    [InlineData("""{"ApiKey":"k","Polling":{"LatencyHalfLife":1e300}}""", "NanoBanana:Polling:LatencyHalfLife must be between 1 and 1,000,000 observations (got 1E+300)")]
    [InlineData("""{"ApiKey":"k","Polling":{"LatencyPriorWeight":1e300}}""", "NanoBanana:Polling:LatencyPriorWeight must be positive and at most 1,000,000 observations")]
    [InlineData("""{"ApiKey":"k","BaseUrl":"gptproto.com/api/v3"}""", "NanoBanana:BaseUrl is not an absolute URL; give the API root with its scheme and host")]
    [InlineData("""{"ApiKey":"k","Catalog":{"Models":{"NanoBanana":{"Id":"gemini-3-pro-image-preview"}}}}""", "NanoBanana:Catalog: 'gemini-3-pro-image-preview' names both NanoBanana (Catalog:Models:NanoBanana:Id) and NanoBananaPro (Catalog:Models:NanoBananaPro:Id)")]
    [InlineData("""{"ApiKey":"k","Catalog":{"Models":{"NanoBanana":{"TypicalLatencyMaxSeconds":1e300}}}}""", "NanoBanana:Catalog:Models:NanoBanana:TypicalLatencyMaxSeconds is 1E+300; it must be a number of seconds from 0 to 86400")]
    [InlineData("""{"ApiKey":"k","Catalog":{"Disabled":["NanoBanana","NanoBanana2","NanoBananaPro"]}}""", "NanoBanana:Catalog:Disabled leaves no model")]
    [InlineData("""{"ApiKey":"k","StatusAliases":{"succeeded":"done"}}""", "NanoBanana:StatusAliases:succeeded must be one of cancelled, completed, created, expired, failed, processing, timeout (got 'done')")]
    [InlineData("""{"ApiKey":"k","StatusAliases":{"completed":"failed"}}""", "NanoBanana:StatusAliases:completed: 'completed' is one of the SDK's own statuses and cannot be given another meaning")]
    [InlineData("""{"ApiKey":"k","StatusAliases":{"error":"failed","error ":"cancelled"}}""", "'error' is given more than once (the keys differ only in surrounding spaces)")]
    [InlineData("""{"ApiKey":"k","StatusAlias":{"succeeded":"completed"}}""", "NanoBanana:StatusAlias is not a setting (did you mean NanoBanana:StatusAliases?)")]
    public void Bad_options_fail_at_startup_with_a_message_naming_the_key(string json, string expected)
    {
        var services = new ServiceCollection();
        var section = Json("{\"NanoBanana\":" + json + "}").GetSection("NanoBanana");
        try
        {
            services.AddNanoBanana(section);
        }
        catch (InvalidOperationException ex)
        {
            // An enum value the binder cannot convert fails at bind time, also naming the key.
            Assert.Contains(expected, ex.Message + ex.InnerException?.Message);
            return;
        }

        using var provider = services.BuildServiceProvider();
        var ex2 = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(expected, ex2.Message + ex2.InnerException?.Message, StringComparison.Ordinal);
        if (ex2 is not OptionsValidationException)
        {
            // Only the binder may fail otherwise (a value it cannot convert), and it names the key too.
            Assert.Contains("Failed to convert configuration value", ex2.Message + ex2.InnerException?.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("(Parameter '", ex2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_keyed_client_s_bad_settings_are_named_by_its_own_section_or_key()
    {
        if (Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable) is not null)
        {
            return; // a developer machine with a real key set: the fallback applies
        }

        // Before, every value error said "NanoBanana:…" whatever section the client was bound to, while the unknown-key
        // check named the real path.
        var services = new ServiceCollection();
        var root = Json("""{"Providers":{"WaveSpeed":{"Provider":"WaveSpeed","Deadline":"30.00:00:00","Dedline":"00:01:00"}}}""");
        services.AddNanoBanana("wavespeed", root.GetSection("Providers:WaveSpeed"));
        services.AddNanoBanana("coded", null, o => o.Provider = ApiProvider.GptProto);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        var messages = string.Join("\n", ex.InnerExceptions.Select(e => e.Message));
        Assert.Contains("Providers:WaveSpeed:Deadline must be positive and at most 7 days (got 30.00:00:00).", messages, StringComparison.Ordinal);
        Assert.Contains("Providers:WaveSpeed:ApiKey is not set", messages, StringComparison.Ordinal);
        Assert.Contains("Providers:WaveSpeed:Dedline is not a setting (did you mean Providers:WaveSpeed:Deadline?)", messages, StringComparison.Ordinal);
        Assert.Contains("NanoBanana:ApiKey is not set (nor is the NANOBANANA_API_KEY environment variable). (keyed client 'coded')", messages, StringComparison.Ordinal);
        Assert.DoesNotContain("NanoBanana:Deadline", messages, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_bound_to_another_section_is_told_of_its_settings_there_when_it_runs()
    {
        // The startup checks named a client's own section; what it met at run time did not: a limit, an unknown status
        // word and the retirement warning all said "NanoBanana:…", a key that client never reads.
        var id = "gemini-retired-" + Guid.NewGuid().ToString("N")[..8]; // warned about once per process: an id of its own
        void Retire(ModelCatalogOptions catalog) => catalog.Models["NanoBanana2"] = new ModelOverrideOptions { Id = id, RetirementDate = new DateOnly(2020, 1, 1) };
        var emulatorCatalog = new ModelCatalogOptions();
        Retire(emulatorCatalog);
        await using var emulator = await Emu.StartAsync(o => { o.CompletedStatus = "succeeded"; o.Catalog = ModelCatalog.Create(emulatorCatalog); });
        var root = Json("""{"Imaging":{"StatusAliases":{"succeeded":"completed"},"Limits":{"MaxImageBytes":2048}},"Images":{"Print":{"Deadline":"00:00:20"}}}""");
        var logs = new CapturingLoggerProvider();
        var time = new ManualTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddSingleton<TimeProvider>(time);
        services.AddNanoBanana(root.GetSection("Imaging"));
        services.Configure<NanoBananaOptions>(o => { emulator.ConfigureClient(o); Retire(o.Catalog); });
        services.AddNanoBanana("print", root.GetSection("Images:Print"), o => { emulator.ConfigureClient(o); Retire(o.Catalog); });
        await using var provider = services.BuildServiceProvider();

        var plain = provider.GetRequiredService<INanoBananaClient>();
        var job = plain.GenerateAsync(new ImageJob("a lamp") { Base64Output = true, AllowFallback = false });
        await ClientTests.AdvanceUntilAsync(time, job, TimeSpan.FromMinutes(1));
        var tooLarge = await Assert.ThrowsAsync<ResponseLimitExceededException>(() => job);
        Assert.Equal("Imaging:Limits:MaxImageBytes", tooLarge.LimitName);
        Assert.Contains("more than Imaging:Limits:MaxImageBytes (2048)", tooLarge.Message, StringComparison.Ordinal);
        emulator.EnqueueFault(FaultKind.EmptyOutputs, FaultTarget.Submit);
        job = plain.GenerateAsync(new ImageJob("a lamp"));
        await ClientTests.AdvanceUntilAsync(time, job, TimeSpan.FromMinutes(1));
        var empty = await Assert.ThrowsAsync<PredictionFailedException>(() => job);
        Assert.Contains("(Imaging:FallbackOnEmptyOutput allows it)", empty.Message, StringComparison.Ordinal);

        var print = provider.GetRequiredKeyedService<INanoBananaClient>("print");
        job = print.GenerateAsync(new ImageJob("a lamp") { AllowFallback = false });
        await ClientTests.AdvanceUntilAsync(time, job, TimeSpan.FromMinutes(5));
        var timeout = await Assert.ThrowsAsync<PredictionTimeoutException>(() => job);
        Assert.Contains("map it under Images:Print:StatusAliases (for example", timeout.Message, StringComparison.Ordinal);
        var said = string.Join("\n", logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message));
        Assert.Contains("map it under Images:Print:StatusAliases (for example", said, StringComparison.Ordinal);
        Assert.Contains("set Imaging:Catalog:Models:NanoBanana2:Id to move on", said, StringComparison.Ordinal);
        Assert.DoesNotContain("NanoBanana:StatusAliases", timeout.Message + said, StringComparison.Ordinal);
        Assert.DoesNotContain("NanoBanana:Catalog", said, StringComparison.Ordinal);
    }

    [Fact]
    public void The_suite_runs_on_the_runtime_and_library_build_it_was_built_for()
    {
        // CI runs this suite on .NET 10 and again, self-contained, on .NET 8 (-p:TestOnNet8=true), the library's other
        // target. A .NET 8 run that had rolled forward onto .NET 10, or loaded the other build, would test nothing new.
#if TEST_ON_NET8
        const int Expected = 8;
#else
        const int Expected = 10;
#endif
        Assert.Equal(Expected, Environment.Version.Major);
        var built = typeof(NanoBananaClient).Assembly.GetCustomAttributes(typeof(System.Runtime.Versioning.TargetFrameworkAttribute), false);
        Assert.Equal($".NETCoreApp,Version=v{Expected}.0", Assert.IsType<System.Runtime.Versioning.TargetFrameworkAttribute>(Assert.Single(built)).FrameworkName);

        // CI runs the hostile world under tr-TR (a dotless lower-case 'I', a decimal comma) and the .NET 8 run under
        // de-DE, and says so here: a run whose LC_ALL no longer reached the tests would fail rather than pass in English.
        if (Environment.GetEnvironmentVariable("NB_EXPECT_CULTURE") is { Length: > 0 } culture)
        {
            Assert.Equal(culture, System.Globalization.CultureInfo.CurrentCulture.Name);
        }

        // And the changed-defaults world in a time zone 12:45 ahead of UTC (Pacific/Chatham), with ISO timestamps.
        if (Environment.GetEnvironmentVariable("NB_EXPECT_TIME_ZONE") is { Length: > 0 } zone)
        {
            Assert.Equal(zone, TimeZoneInfo.Local.Id);
        }
    }

    [Fact]
    public void Missing_api_key_fails_at_startup_and_names_the_environment_variable()
    {
        if (Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable) is not null)
        {
            return; // a developer machine with a real key set: the fallback applies
        }

        var services = new ServiceCollection();
        services.AddNanoBanana(o => o.Provider = ApiProvider.GptProto);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("NanoBanana:ApiKey", ex.Message);
        Assert.Contains("NANOBANANA_API_KEY", ex.Message);
    }

    [Fact]
    public async Task Two_providers_side_by_side_as_keyed_clients()
    {
        await using var gptProto = await Emu.StartAsync();
        await using var waveSpeed = await Emu.StartAsync();
        var services = new ServiceCollection();
        services.AddNanoBanana("gptproto", null, o => { o.ApiKey = Emu.Key; gptProto.ConfigureClient(o); });
        services.AddNanoBanana("wavespeed", null, o => { o.ApiKey = Emu.Key; waveSpeed.ConfigureClient(o); o.Provider = ApiProvider.WaveSpeed; });
        await using var provider = services.BuildServiceProvider();
        var a = provider.GetRequiredKeyedService<INanoBananaClient>("gptproto");
        var b = provider.GetRequiredKeyedService<INanoBananaClient>("wavespeed");
        Assert.NotSame(a, b);
        var job = new ImageJob("x") { Deadline = TimeSpan.FromSeconds(30) };
        await a.GenerateAsync(job);
        await b.GenerateAsync(job);
        Assert.Equal("Raw", gptProto.Requests.First(r => r.Kind == "submit").AuthorizationScheme);
        Assert.Equal("Bearer", waveSpeed.Requests.First(r => r.Kind == "submit").AuthorizationScheme);
    }

    [Fact]
    public async Task Spans_and_metrics_describe_a_run()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        using var spans = new SpanRecorder();
        var measurements = new List<(string Name, double Value, string? Model)>();
        using var meter = new MeterListener();
        meter.InstrumentPublished = (i, l) => { if (i.Meter.Name == NanoBananaTelemetry.Name) { l.EnableMeasurementEvents(i); } };
        void Record(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? model = null;
            foreach (var t in tags)
            {
                if (t.Key == "nanobanana.model") { model = t.Value as string; }
            }

            lock (measurements) { measurements.Add((i.Name, v, model)); }
        }

        meter.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        meter.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        meter.Start();

        var result = await client.GenerateAsync(new ImageJob("x") { ReferenceImages = [ReferenceImage.Face("https://i.example/a.png")] });
        await result.Images[0].GetBytesAsync();

        // Other tests run in parallel and emit through the same source: assert on snapshots.
        var finished = spans.Finished();
        (string Name, double Value, string? Model)[] recorded;
        lock (measurements) { recorded = [.. measurements]; }

        Assert.Contains(finished, s => s.OperationName == "nanobanana.route");
        var submit = Assert.Single(finished, s => s.OperationName == "nanobanana.submit" && (string?)s.GetTagItem("nanobanana.prediction_id") == Diagnostics.SafeText.Value(result.PredictionId));
        Assert.Equal(result.Model.Id, submit.GetTagItem("nanobanana.model"));
        Assert.Contains(finished, s => s.OperationName == "nanobanana.poll" && (string?)s.GetTagItem("nanobanana.status") == "completed");
        Assert.Contains(finished, s => s.OperationName == "nanobanana.generate");
        Assert.Contains(finished, s => s.OperationName == "nanobanana.download" && (int?)s.GetTagItem("http.response.status_code") == 200);
        Assert.Contains(recorded, m => m.Name == "nanobanana.jobs.started" && m.Model == result.Model.Id);
        Assert.Contains(recorded, m => m.Name == "nanobanana.jobs.completed" && m.Model == result.Model.Id);
        Assert.Contains(recorded, m => m.Name == "nanobanana.polls");
        Assert.Contains(recorded, m => m.Name == "nanobanana.job.duration" && m.Value > 0);
        Assert.Contains(recorded, m => m.Name == "nanobanana.job.estimated_cost" && Math.Abs(m.Value - (double)result.EstimatedCostUsd) < 1e-9);
    }

    [Fact]
    public async Task A_hostile_prediction_id_reaches_span_tags_on_one_line_and_bounded()
    {
        var marker = "evil-" + Guid.NewGuid().ToString("N");
        await using var emulator = await Emu.StartAsync(o => o.IdPrefix = marker + "\n\u001b]0;title\u0007\u202E" + new string('x', 400));
        using var client = Emu.Client(emulator);
        using var spans = new SpanRecorder();

        var result = await client.GenerateAsync(new ImageJob("x"));
        await result.Images[0].GetBytesAsync();
        Assert.StartsWith(marker + "\n", result.PredictionId, StringComparison.Ordinal); // the id itself is kept exactly

        var mine = spans.Finished().Where(s => s.GetTagItem("nanobanana.prediction_id") is string id && id.StartsWith(marker, StringComparison.Ordinal)).ToArray();
        Assert.Contains(mine, s => s.OperationName == "nanobanana.submit");
        Assert.Contains(mine, s => s.OperationName == "nanobanana.poll");
        Assert.Contains(mine, s => s.OperationName == "nanobanana.download");
        Assert.All(mine.SelectMany(s => s.Tags), t =>
        {
            Assert.True(t.Value!.Length <= SafeText.MaxValueChars, $"{t.Key}: {t.Value.Length} characters");
            Assert.DoesNotContain(t.Value, c => char.IsControl(c) || c is '\u202E');
        });
    }

    [Fact]
    public async Task Image_generator_generates_through_the_emulator()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var generator = client.AsImageGenerator();
        var response = await generator.GenerateImagesAsync("a lighthouse", new ImageGenerationOptions
        {
            ImageSize = new System.Drawing.Size(1400, 780),
            AdditionalProperties = new() { [NanoBananaImageGenerator.TypographyCriticalKey] = true },
        });
        var data = Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal("image/png", data.MediaType);
        Assert.Equal((1376, 768), PngWriter.ReadSize(data.Data.Span)); // nearest: 16:9 at 1K
        var result = Assert.IsType<ImageResult>(response.RawRepresentation);
        Assert.Equal(ImageTier.NanoBananaPro, result.Model.Tier);     // typography-critical via AdditionalProperties
        Assert.Contains("\"enable_base64_output\":true", emulator.Requests.First(r => r.Kind == "submit").Body);

        var meta = generator.GetService<ImageGeneratorMetadata>()!;
        Assert.Equal("nanobanana", meta.ProviderName);
        Assert.Equal("gemini-3.1-flash-image-preview", meta.DefaultModelId);
        Assert.Same(client, generator.GetService<INanoBananaClient>());
    }

    [Fact]
    public async Task Image_generator_maps_model_id_count_uris_and_edits()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var generator = new NanoBananaImageGenerator(client);
        var face = new UriContent(new Uri("https://img.example/face.png"), "image/png") { AdditionalProperties = new() { [NanoBananaImageGenerator.ReferenceKindKey] = "face" } };
        var response = await generator.GenerateAsync(
            new ImageGenerationRequest("make it a watercolor", [face]),
            new ImageGenerationOptions { ModelId = "NanoBanana", Count = 2, ResponseFormat = ImageGenerationResponseFormat.Uri });
        Assert.Equal(2, response.Contents.Count);
        Assert.All(response.Contents, c => Assert.IsType<UriContent>(c));
        var submits = emulator.Requests.Where(r => r.Kind == "submit").ToArray();
        Assert.Equal(2, submits.Length);
        Assert.All(submits, s => Assert.EndsWith("/gemini-2.5-flash-image/image-edit", s.Path));

        var job = generator.ToJob(new ImageGenerationRequest("x", [face]), null);
        Assert.Equal(1, job.ToRequirements().FaceCount);
        Assert.Contains("not an image", Assert.Throws<ArgumentException>(() => generator.ToJob(new ImageGenerationRequest("x", [new DataContent(new byte[] { 1, 2 }, "image/png")]), null)).Message);
        var inline = generator.ToJob(new ImageGenerationRequest("x", [new DataContent(PngWriter.Gradient(8, 8, (0, 0, 0), (255, 255, 255)), "image/png")]), null);
        Assert.True(Assert.Single(inline.ReferenceImages).IsLocal); // inline bytes become a local image, uploaded before the submit
        Assert.Throws<ArgumentException>(() => generator.ToJob(new ImageGenerationRequest("x"), new ImageGenerationOptions { ModelId = "dall-e-3" }));
        Assert.Equal(NanoBanana.Protocol.OutputFormat.Jpeg, generator.ToJob(new ImageGenerationRequest("x"), new ImageGenerationOptions { MediaType = "IMAGE/JPEG" }).OutputFormat);
        Assert.Equal(NanoBanana.Protocol.OutputFormat.Png, generator.ToJob(new ImageGenerationRequest("x"), new ImageGenerationOptions { MediaType = "image/png" }).OutputFormat);
        var webp = Assert.Throws<ArgumentException>(() => generator.ToJob(new ImageGenerationRequest("x"), new ImageGenerationOptions { MediaType = "image/webp" }));
        Assert.Contains("MediaType must be image/png or image/jpeg", webp.Message, StringComparison.Ordinal);
        Assert.Equal(2, emulator.AcceptedSubmits); // the two above; nothing sent for the refused request
    }

    [Fact]
    public async Task Image_generator_registers_with_di()
    {
        await using var emulator = await Emu.StartAsync();
        var services = new ServiceCollection();
        services.AddNanoBanana(o => { var e = Emu.Options(emulator); o.ApiKey = e.ApiKey; o.BaseUrl = e.BaseUrl; }).AddImageGenerator();
        await using var provider = services.BuildServiceProvider();
        var generator = provider.GetRequiredService<IImageGenerator>();
        Assert.Same(provider.GetRequiredService<INanoBananaClient>(), generator.GetService<INanoBananaClient>());
    }

    [Fact]
    public async Task Image_generator_registration_chains_logging_and_open_telemetry_around_the_sdk()
    {
        await using var emulator = await Emu.StartAsync();
        var source = "meai-test-" + Guid.NewGuid().ToString("N"); // a source of this test's own: tests run in parallel
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source || s.Name == NanoBananaTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (spans) { spans.Add(a); } },
        };
        ActivitySource.AddActivityListener(listener);
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(logs);
        services.AddNanoBanana(o => { var e = Emu.Options(emulator); o.ApiKey = e.ApiKey; o.BaseUrl = e.BaseUrl; })
            .AddImageGenerator()
            .UseLogging()
            .UseOpenTelemetry(sourceName: source);
        await using var provider = services.BuildServiceProvider();

        var generator = provider.GetRequiredService<IImageGenerator>();
        Assert.IsType<LoggingImageGenerator>(generator); // the first Use is the outermost layer
        Assert.NotNull(generator.GetService<OpenTelemetryImageGenerator>());
        Assert.NotNull(generator.GetService<NanoBananaImageGenerator>());
        Assert.Same(provider.GetRequiredService<INanoBananaClient>(), generator.GetService<INanoBananaClient>());

        var response = await generator.GenerateAsync(new ImageGenerationRequest("a lamp on a desk"), new ImageGenerationOptions { ModelId = "NanoBanana" });

        var png = Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Data.ToArray()[..4]);
        Assert.Equal(1, emulator.AcceptedSubmits);

        // The pipeline's span encloses the SDK's: one trace from the MEAI call down to the submit and the polls.
        Activity outer, generate;
        lock (spans)
        {
            outer = Assert.Single(spans, a => a.Source.Name == source);
            generate = Assert.Single(spans, a => a.OperationName == "nanobanana.generate" && a.TraceId == outer.TraceId);
            Assert.Contains(spans, a => a.OperationName == "nanobanana.submit" && a.TraceId == outer.TraceId);
        }

        Assert.Equal(outer.SpanId, generate.ParentSpanId);
        Assert.Equal("127.0.0.1", outer.GetTagItem("server.address"));
        Assert.Equal("gemini-2.5-flash-image", generate.GetTagItem("nanobanana.model"));
        Assert.StartsWith("generate_content", outer.DisplayName);
        Assert.Equal("NanoBanana", outer.GetTagItem("gen_ai.request.model")); // the ModelId as pinned; the model that ran is on the child
        Assert.Equal("nanobanana", outer.GetTagItem("gen_ai.provider.name"));

        // Microsoft's logging layer and the SDK's own logs reach the same factory; the key reaches neither.
        var entries = logs.Entries.ToArray();
        Assert.Contains(entries, e => e.Category.EndsWith(nameof(LoggingImageGenerator)) && e.Message == "GenerateAsync completed.");
        Assert.Contains(entries, e => e.Category.EndsWith(nameof(LoggingImageGenerator)) && e.Level == Microsoft.Extensions.Logging.LogLevel.Trace && e.Message.Contains("a lamp on a desk"));
        Assert.Contains(entries, e => e.Category.StartsWith("NanoBanana") && e.Message.Contains(Diagnostics.SafeText.Value(emulator.Jobs.Single().Id)!));
        Assert.DoesNotContain(entries, e => e.Message.Contains(Emu.Key));
    }

    [Fact]
    public async Task Keyed_image_generator_registration_is_a_pipeline_over_the_keyed_client()
    {
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(logs);
        services.AddNanoBanana("second", null, o => { var e = Emu.Options(emulator); o.ApiKey = e.ApiKey; o.BaseUrl = e.BaseUrl; })
            .AddImageGenerator()
            .UseLogging();
        await using var provider = services.BuildServiceProvider();

        Assert.Null(provider.GetService<IImageGenerator>());
        var generator = provider.GetRequiredKeyedService<IImageGenerator>("second");
        Assert.IsType<LoggingImageGenerator>(generator);
        Assert.Same(provider.GetRequiredKeyedService<INanoBananaClient>("second"), generator.GetService<INanoBananaClient>());

        var response = await generator.GenerateAsync(new ImageGenerationRequest("a kettle"));
        Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.Contains(logs.Entries, e => e.Category.EndsWith(nameof(LoggingImageGenerator)) && e.Message == "GenerateAsync completed.");

        // Without DI, the same pipeline over a client of one's own.
        using var own = Emu.Client(emulator);
        using var piped = own.AsImageGenerator().AsBuilder().UseLogging(logs).Build();
        Assert.IsType<LoggingImageGenerator>(piped);
        Assert.IsType<DataContent>(Assert.Single((await piped.GenerateAsync(new ImageGenerationRequest("a teapot"))).Contents));
        Assert.Equal(2, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Image_generator_metadata_shows_the_base_url_without_user_info_or_query()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.BaseUrl = new Uri($"http://bob:hunter2@127.0.0.1:{emulator.BaseAddress.Port}/v3root/?token=abc"));
        var metadata = new NanoBananaImageGenerator(client).Metadata;
        Assert.Equal($"http://127.0.0.1:{emulator.BaseAddress.Port}/v3root/", metadata.ProviderUri!.ToString());
    }

    [Theory]
    [InlineData(1024, 1024, "1K", "1:1")]
    [InlineData(512, 512, "0.5K", "1:1")]
    [InlineData(3840, 2160, "2K", "16:9")]  // nearest long side: 2752 beats 5504
    [InlineData(5000, 2800, "4K", "16:9")]
    [InlineData(1000, 8000, "2K", "1:8")]
    [InlineData(1800, 2400, "2K", "3:4")]
    public void Nearest_size_and_ratio(int w, int h, string size, string ratio)
    {
        var (s, r) = NanoBananaImageGenerator.Nearest(new System.Drawing.Size(w, h));
        Assert.Equal(size, s.ToString());
        Assert.Equal(ratio, r.ToString());
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-5, 10)]
    [InlineData(1024, 0)]
    public async Task An_image_size_without_a_positive_width_and_height_is_refused_before_anything_is_sent(int w, int h)
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.AsImageGenerator().GenerateAsync(
            new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { ImageSize = new System.Drawing.Size(w, h) }));
        Assert.Contains($"ImageGenerationOptions.ImageSize must have a positive width and height (got {w}x{h})", ex.Message, StringComparison.Ordinal);
        Assert.Empty(emulator.Requests);
    }
}
