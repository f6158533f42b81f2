using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using NanoBanana.DependencyInjection;
using NanoBanana.Emulator;
using Polly;
using Xunit;

namespace NanoBanana.Tests;

/// <summary>
/// The app's own HttpClient configuration around the SDK's: a .NET Aspire app's service defaults add the standard
/// resilience handler to every HttpClient (ConfigureHttpClientDefaults), and an app may add a retrying handler to the
/// SDK's client itself. Before, either sent a submit the service had accepted (a 500) a second time: two jobs paid for
/// one image, one of them never collected. Over real HTTP against the emulator, with Microsoft's and Polly's handlers.
/// </summary>
public sealed class HttpClientDefaultsTests
{
    private static (ServiceCollection Services, CapturingLoggerProvider Logs) App()
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs));
        return (services, logs);
    }

    // The default client (name empty) or a keyed one, on the emulator with the test key.
    private static INanoBananaBuilder AddClient(IServiceCollection services, string name, NanoBananaEmulator emulator)
    {
        void Configure(NanoBananaOptions o)
        {
            emulator.ConfigureClient(o);
            o.ApiKey = Emu.Key;
        }

        return name.Length == 0 ? services.AddNanoBanana(Configure) : services.AddNanoBanana(name, null, Configure);
    }

    private static INanoBananaClient Client(IServiceProvider provider, string name) =>
        name.Length == 0 ? provider.GetRequiredService<INanoBananaClient>() : provider.GetRequiredKeyedService<INanoBananaClient>(name);

    // The handlers of the SDK's default HttpClient as IHttpClientFactory builds them, outermost first.
    private static List<HttpMessageHandler> Pipeline(IServiceProvider provider)
    {
        var chain = new List<HttpMessageHandler>();
        for (HttpMessageHandler? h = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("NanoBanana"); h is not null; h = (h as DelegatingHandler)?.InnerHandler)
        {
            chain.Add(h);
        }

        return chain;
    }

    [Theory]
    [InlineData(true, false, "")]
    [InlineData(false, false, "")]
    [InlineData(true, true, "print")] // Polly's transient-error retry, for a keyed client
    public async Task An_app_wide_standard_resilience_handler_is_left_out_so_a_submit_the_service_took_is_not_sent_again(bool defaultsFirst, bool polly, string name)
    {
        await using var emulator = await Emu.StartAsync();
        var (services, logs) = App();
        void Defaults() => services.ConfigureHttpClientDefaults(h =>
        {
            if (polly)
            {
                h.AddTransientHttpErrorPolicy(p => p.RetryAsync(3));
            }
            else
            {
                h.AddStandardResilienceHandler();
            }
        });
        if (defaultsFirst)
        {
            Defaults();
        }

        AddClient(services, name, emulator);
        if (!defaultsFirst)
        {
            Defaults();
        }

        await using var provider = services.BuildServiceProvider();
        var client = Client(provider, name);

        // A 500 to a submit: the emulator created the job. Both handlers retry a 500, whatever the method.
        emulator.EnqueueFault(FaultKind.InternalError, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Contains("the service answered 500", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);

        var said = Assert.Single(logs.Entries, e => e.Message.Contains("leaves out", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, said.Level);
        var handler = polly ? "Microsoft.Extensions.Http.PolicyHttpMessageHandler" : "Microsoft.Extensions.Http.Resilience.ResilienceHandler";
        Assert.Contains($"HttpClient '{(name.Length == 0 ? "NanoBanana" : "NanoBanana:" + name)}' leaves out {handler},", said.Message, StringComparison.Ordinal);

        // Polls go on through the SDK's own retries: a 500 to a poll is asked again, and the job ends in an image.
        emulator.EnqueueFault(FaultKind.InternalError, FaultTarget.Poll);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(result.Images);
        Assert.Equal(2, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task An_app_wide_http_client_timeout_does_not_cut_a_sync_mode_wait_short()
    {
        // HttpClient.Timeout set for every client (100 s by default; here a fifth of the job): the SDK's own timeouts
        // govern its client, so a sync-mode submit held for the job's length is not cut off, its job billed unseen.
        await using var emulator = await Emu.StartAsync(o => (o.LatencySampler, o.FaultRate) = ((_, _) => 1.0, 0), timeScale: 1);
        var (services, _) = App();
        services.ConfigureHttpClientDefaults(h => h.ConfigureHttpClient(c => c.Timeout = TimeSpan.FromMilliseconds(200)));
        services.AddNanoBanana(o => { emulator.ConfigureClient(o); o.ApiKey = Emu.Key; o.UseSyncMode = true; });
        await using var provider = services.BuildServiceProvider();

        var result = await provider.GetRequiredService<INanoBananaClient>().GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(0, emulator.Count("poll"));
    }

    [Fact]
    public async Task An_app_wide_handler_s_timeouts_do_not_cut_a_sync_mode_wait_short()
    {
        // Sync mode holds the submit open until the job ends: a job of a second against an app-wide total timeout of
        // half a second. Kept, the handler cut the submit off: an unknown outcome, the job billed and its id never seen.
        await using var emulator = await Emu.StartAsync(o => (o.LatencySampler, o.FaultRate) = ((_, _) => 1.0, 0), timeScale: 1);
        var (services, logs) = App();
        services.ConfigureHttpClientDefaults(h => h.AddStandardResilienceHandler(o =>
        {
            o.AttemptTimeout.Timeout = TimeSpan.FromMilliseconds(200);
            o.TotalRequestTimeout.Timeout = TimeSpan.FromMilliseconds(500);
            o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(1);
        }));
        services.AddNanoBanana(o => { emulator.ConfigureClient(o); o.ApiKey = Emu.Key; o.UseSyncMode = true; });
        await using var provider = services.BuildServiceProvider();

        var result = await provider.GetRequiredService<INanoBananaClient>().GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(result.Images);
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(0, emulator.Count("poll"));
    }

    public enum Repeater
    {
        /// <summary>Microsoft.Extensions.Http.Resilience's retry, added to the SDK's client.</summary>
        Standard,
        /// <summary>Microsoft.Extensions.Http.Polly's transient-error retry, added to the SDK's client.</summary>
        PollyPolicy,
        /// <summary>A handler of the app's own that sends again on a 5xx, added to the SDK's client.</summary>
        Own,
        /// <summary>The same, added for every HttpClient of the app: outside the SDK's handler and not known to it.</summary>
        OwnAppWide,
        /// <summary>The same on the SDK's client, reading the body as a stream first (to log it, say).</summary>
        OwnReadingTheBody,
        /// <summary>
        /// The same reading the body as a string first: HttpContent then keeps a copy of the body, and every later send
        /// copies that buffer to the wire without asking the body.
        /// </summary>
        OwnReadingTheBodyAsString,
        /// <summary>A logging handler that reads the body as a string, then Microsoft's standard resilience, on the SDK's client.</summary>
        StandardBehindAStringLogger,
        /// <summary>As <see cref="OwnReadingTheBodyAsString"/>, over a transport of the app's (a proxy's settings, say).</summary>
        OwnReadingTheBodyAsStringOverTheAppsTransport,
        /// <summary>The same replacing the body with bytes of its own (as a signing handler does) before it sends.</summary>
        OwnReplacingTheBody,
    }

    [Theory]
    [InlineData(Repeater.Standard)]
    [InlineData(Repeater.PollyPolicy)]
    [InlineData(Repeater.Own)]
    [InlineData(Repeater.OwnAppWide)]
    [InlineData(Repeater.OwnReadingTheBody)]
    [InlineData(Repeater.OwnReadingTheBodyAsString)]
    [InlineData(Repeater.StandardBehindAStringLogger)]
    [InlineData(Repeater.OwnReadingTheBodyAsStringOverTheAppsTransport)]
    [InlineData(Repeater.OwnReplacingTheBody)]
    public async Task Whatever_handler_repeats_a_submit_its_body_leaves_once(Repeater repeater)
    {
        await using var emulator = await Emu.StartAsync();
        var (services, _) = App();
        if (repeater == Repeater.OwnAppWide)
        {
            services.ConfigureHttpClientDefaults(h => h.AddHttpMessageHandler(() => new SendsAgainOn5xx()));
        }

        var builder = services.AddNanoBanana(o => { emulator.ConfigureClient(o); o.ApiKey = Emu.Key; });
        _ = repeater switch
        {
            Repeater.Standard => builder.HttpClient.AddStandardResilienceHandler(o => o.Retry.Delay = TimeSpan.FromMilliseconds(10)).Services,
            Repeater.PollyPolicy => builder.HttpClient.AddTransientHttpErrorPolicy(p => p.RetryAsync(3)).Services,
            Repeater.Own => builder.HttpClient.AddHttpMessageHandler(() => new SendsAgainOn5xx()).Services,
            Repeater.OwnReadingTheBody => builder.HttpClient.AddHttpMessageHandler(() => new SendsAgainOn5xx(readBody: true)).Services,
            Repeater.OwnReadingTheBodyAsString => builder.HttpClient.AddHttpMessageHandler(() => new SendsAgainOn5xx(readBody: true, asString: true)).Services,
            Repeater.OwnReplacingTheBody => builder.HttpClient.AddHttpMessageHandler(() => new SendsAgainOn5xx(replaceBody: true)).Services,
            Repeater.OwnReadingTheBodyAsStringOverTheAppsTransport => builder.HttpClient.AddHttpMessageHandler(() => new SendsAgainOn5xx(readBody: true, asString: true))
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler()).Services,
            Repeater.StandardBehindAStringLogger => builder.HttpClient.AddHttpMessageHandler(() => new LogsTheBodyAsString())
                .AddStandardResilienceHandler(o => o.Retry.Delay = TimeSpan.FromMilliseconds(10)).Services,
            _ => services,
        };
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<INanoBananaClient>();

        emulator.EnqueueFault(FaultKind.InternalError, FaultTarget.Submit);
        var thrown = await Record.ExceptionAsync(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);
        var ex = Assert.IsType<SubmitOutcomeUnknownException>(thrown);
        Assert.Contains("sent it again after an earlier attempt; the SDK refused that repeat, so the job is not paid twice", ex.Message, StringComparison.Ordinal);

        emulator.EnqueueFault(FaultKind.RateLimitedWithRetryAfter, FaultTarget.Submit);
        if (repeater is Repeater.Standard or Repeater.StandardBehindAStringLogger)
        {
            // It also repeats a 429, and inside the SDK's handler it sees it first: its repeat is refused like any other
            // (the body cannot tell what the answer was), so nothing is sent twice, not even what was refused.
            await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.GenerateAsync(new ImageJob("a lamp")));
            Assert.Equal(1, emulator.AcceptedSubmits);
            Assert.Equal(2, emulator.Count("submit"));
            return;
        }

        // The SDK's own retry of a 429 (not accepted) still sends the body again, through the same handlers.
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(result.Images);
        Assert.Equal(2, emulator.AcceptedSubmits);
        Assert.Equal(3, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_hedging_handler_on_the_client_gets_the_answer_of_the_submit_in_flight_and_sends_no_other()
    {
        // Hedging sends a second copy of a request that is slow to answer. The copy of a submit is refused before its body
        // leaves, and the handler, taking that for a failed attempt, waits for the first one: one job, its image.
        await using var emulator = await Emu.StartAsync(o => o.SlowSubmitDelay = TimeSpan.FromMilliseconds(300));
        var (services, _) = App();
        services.AddNanoBanana(o => { emulator.ConfigureClient(o); o.ApiKey = Emu.Key; })
            .HttpClient.AddStandardHedgingHandler().Configure(o => o.Hedging.Delay = TimeSpan.FromMilliseconds(10));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<INanoBananaClient>();

        emulator.EnqueueFault(FaultKind.SlowSubmit, FaultTarget.Submit);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(result.Images);
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);

        // A 500 (the job created): the copy is refused, and the caller hears of an unknown outcome, not of a second job.
        emulator.EnqueueFault(FaultKind.InternalError, FaultTarget.Submit);
        await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Equal(2, emulator.Count("submit"));
        Assert.Equal(2, emulator.AcceptedSubmits);
    }

    [Theory]
    [InlineData("")]
    [InlineData("print")] // a keyed client: the guard finds its HttpClient by the key's name
    public async Task A_submit_cancelled_after_a_handler_read_its_body_and_before_it_left_is_known_not_sent(string name)
    {
        // A logging handler reads the body as a string; a handler below it holds the submit (a queue, a rate limiter)
        // until the caller cancels. Nothing left: the caller hears of a cancellation, not of a job that may be billed.
        await using var emulator = await Emu.StartAsync();
        var (services, _) = App();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AddClient(services, name, emulator)
            .HttpClient.AddHttpMessageHandler(() => new LogsTheBodyAsString())
            .AddHttpMessageHandler(() => new HoldsSubmits(held));
        await using var provider = services.BuildServiceProvider();
        var client = Client(provider, name);

        using var cts = new CancellationTokenSource();
        var job = client.GenerateAsync(new ImageJob("a lamp"), cts.Token);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        cts.Cancel();
        var thrown = await Record.ExceptionAsync(() => job);
        Assert.Equal(0, emulator.Count("submit"));
        Assert.IsAssignableFrom<OperationCanceledException>(thrown);
    }

    [Fact]
    public async Task A_submit_whose_body_a_handler_replaced_is_an_unknown_outcome_when_cancelled_after_it_left()
    {
        // A handler sends bytes of its own in place of the SDK's body (as a signing handler does). The service accepts
        // the job and holds its answer; the caller cancels. The job may be billed: the caller must hear so.
        await using var emulator = await Emu.StartAsync(o => o.SlowSubmitDelay = TimeSpan.FromSeconds(30));
        var (services, _) = App();
        services.AddNanoBanana(o => { emulator.ConfigureClient(o); o.ApiKey = Emu.Key; })
            .HttpClient.AddHttpMessageHandler(() => new ReplacesTheBody());
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<INanoBananaClient>();

        emulator.EnqueueFault(FaultKind.SlowSubmit, FaultTarget.Submit);
        using var cts = new CancellationTokenSource();
        var job = client.GenerateAsync(new ImageJob("a lamp"), cts.Token);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (emulator.AcceptedSubmits == 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }

        cts.Cancel();
        var thrown = await Record.ExceptionAsync(() => job);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.IsType<SubmitOutcomeUnknownException>(thrown);
    }

    private sealed class ReplacesTheBody : DelegatingHandler
    {
        public static async Task ReplaceAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } content)
            {
                var replaced = new ByteArrayContent(await content.ReadAsByteArrayAsync(cancellationToken));
                replaced.Headers.ContentType = content.Headers.ContentType;
                request.Content = replaced;
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await ReplaceAsync(request, cancellationToken);
            return await base.SendAsync(request, cancellationToken);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // a host the caller lists in Limits:AllowedOutputHosts (a private CDN that wants the token) keeps them
    public async Task Credentials_the_app_adds_to_every_request_never_go_with_a_download(bool listed)
    {
        // An app that authenticates to its own services adds its token (and a session cookie) to every HttpClient. The
        // SDK's downloads go to hosts the service names (a CDN): the app's credentials must not go with them. The API
        // calls still carry the SDK's key, not the app's token.
        await using var emulator = await Emu.StartAsync();
        var (services, _) = App();
        services.ConfigureHttpClientDefaults(h => h
            .ConfigureHttpClient(c => c.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "app-token"))
            .AddHttpMessageHandler(() => new AddsTheAppsCookie()));
        var sent = new System.Collections.Concurrent.ConcurrentQueue<(string Path, bool Cookie)>();
        services.AddNanoBanana(o =>
            {
                emulator.ConfigureClient(o);
                o.ApiKey = Emu.Key;
                if (listed)
                {
                    o.Limits.AllowedOutputHosts.Add(emulator.BaseAddress.Host);
                }
            })
            .HttpClient.ConfigurePrimaryHttpMessageHandler(() => new RecordsWhatLeaves(sent) { InnerHandler = new SocketsHttpHandler() });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<INanoBananaClient>();

        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());

        var downloads = emulator.Requests.Where(r => r.Kind == "output").ToList();
        Assert.NotEmpty(downloads);
        Assert.All(downloads, r => Assert.Equal(listed, r.HasAuthorization));
        Assert.All(emulator.Requests.Where(r => r.Kind is "submit" or "poll"), r => Assert.True(r.AuthorizationValid));
        Assert.All(sent.Where(r => downloads.Any(d => d.Path == r.Path)), r => Assert.Equal(listed, r.Cookie));
        Assert.Contains(sent, r => r.Cookie); // the API calls keep what the app added
    }

    [Fact]
    public async Task The_pipeline_runs_the_apps_handlers_between_the_announcer_and_the_guards_above_the_transport()
    {
        // The order the README gives: the announcer, handlers for every client, the SDK's handler, handlers added on
        // .HttpClient, the submit guard, the download handler, the transport (the app's when it sets one).
        var (services, _) = App();
        services.ConfigureHttpClientDefaults(h => h.AddHttpMessageHandler(() => new AddsTheAppsCookie()));
        services.AddNanoBanana(o => o.ApiKey = Emu.Key).HttpClient.AddHttpMessageHandler(() => new LogsTheBodyAsString());
        await using var provider = services.BuildServiceProvider();

        var chain = Pipeline(provider).ConvertAll(h => h.GetType().Name);
        string[] ours = ["Announcer", nameof(AddsTheAppsCookie), "NanoBananaResilienceHandler", nameof(LogsTheBodyAsString), "SubmitSendGuard", "CredentialFreeDownloads", nameof(SocketsHttpHandler)];
        Assert.Equal(ours, chain.Where(ours.Contains));
        Assert.Equal(nameof(SocketsHttpHandler), chain[^1]);
        Assert.Equal("CredentialFreeDownloads", chain[^2]);
    }

    [Fact]
    public async Task A_transport_set_for_every_client_is_not_the_sdks_which_keeps_its_own()
    {
        // The SDK's transport judges a download's addresses when it connects and follows no redirects; a transport the
        // app sets for every client would lose both unseen. The README says so, and how to give the SDK one of the app's.
        var (services, _) = App();
        services.ConfigureHttpClientDefaults(h => h.ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler { UseProxy = false }));
        services.AddNanoBanana(o => o.ApiKey = Emu.Key);
        await using var provider = services.BuildServiceProvider();

        var transport = Assert.IsType<SocketsHttpHandler>(Pipeline(provider)[^1]);
        Assert.False(transport.AllowAutoRedirect);
        Assert.NotNull(transport.ConnectCallback);
        Assert.True(transport.UseProxy); // the process's proxy: HttpClient.DefaultProxy, which HTTPS_PROXY sets
        Assert.Null(transport.Proxy);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_401_says_when_a_handler_of_the_apps_replaced_the_sdks_key(bool replaced)
    {
        // A token handler the app adds to every HttpClient sets its own Authorization on the SDK's requests too. The
        // service answers 401; "check the API key" would send the developer to a key that is right.
        await using var emulator = await Emu.StartAsync();
        var (services, _) = App();
        if (replaced)
        {
            services.ConfigureHttpClientDefaults(h => h.AddHttpMessageHandler(() => new SetsTheAppsToken()));
        }

        services.AddNanoBanana(o => { emulator.ConfigureClient(o); o.ApiKey = replaced ? Emu.Key : "sk-wrong-0123456789"; });
        await using var provider = services.BuildServiceProvider();

        var ex = await Record.ExceptionAsync(() => provider.GetRequiredService<INanoBananaClient>().GenerateAsync(new ImageJob("a lamp")));
        Assert.Equal(0, emulator.AcceptedSubmits);
        var api = Assert.IsAssignableFrom<NanoBananaApiException>(ex);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal(replaced, ex.Message.Contains("replaced or removed the SDK's Authorization header", StringComparison.Ordinal));
        Assert.Equal(!replaced, ex.Message.Contains("Check the API key", StringComparison.Ordinal));
        Assert.DoesNotContain("app-token", ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Emu.Key, ex.ToString(), StringComparison.Ordinal);
    }

    private sealed class SetsTheAppsToken : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "app-token");
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class AddsTheAppsCookie : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation("Cookie", "session=app-session");
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class RecordsWhatLeaves(System.Collections.Concurrent.ConcurrentQueue<(string Path, bool Cookie)> sent) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            sent.Enqueue((request.RequestUri!.PathAndQuery, request.Headers.Contains("Cookie")));
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class HoldsSubmits(TaskCompletionSource held) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post)
            {
                held.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class SendsAgainOn5xx(bool readBody = false, bool asString = false, bool replaceBody = false) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (replaceBody)
            {
                await ReplacesTheBody.ReplaceAsync(request, cancellationToken);
            }
            else if (readBody && asString && request.Content is { } buffered)
            {
                Assert.Contains("a lamp", await buffered.ReadAsStringAsync(cancellationToken), StringComparison.Ordinal);
            }
            else if (readBody && request.Content is { } content)
            {
                // As a logging handler would: HttpContent keeps the stream it handed out, so it is left open and rewound.
                var stream = await content.ReadAsStreamAsync(cancellationToken);
                using (var reader = new StreamReader(stream, leaveOpen: true))
                {
                    Assert.Contains("a lamp", await reader.ReadToEndAsync(cancellationToken), StringComparison.Ordinal);
                }

                stream.Position = 0;
            }

            var response = await base.SendAsync(request, cancellationToken);
            if ((int)response.StatusCode < 500)
            {
                return response;
            }

            response.Dispose();
            return await base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class LogsTheBodyAsString : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Contains("a lamp", await request.Content!.ReadAsStringAsync(cancellationToken), StringComparison.Ordinal);
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
