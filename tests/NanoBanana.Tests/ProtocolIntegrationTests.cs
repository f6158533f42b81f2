using Microsoft.Extensions.Logging;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NanoBanana.Catalog;
using NanoBanana.Emulator;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

/// <summary>The protocol client over real loopback HTTP against the Kestrel emulator.</summary>
public class ProtocolIntegrationTests
{
    private static (NanoBananaProtocolClient Client, HttpClient Http) Protocol(NanoBananaEmulator emulator, Action<NanoBananaOptions>? configure = null)
    {
        var options = Emu.Options(emulator, configure);
        var http = NanoBananaClient.CreateHttpClient(options);
        return (new NanoBananaProtocolClient(http, options), http);
    }

    private static async Task<Prediction> PollUntilDoneAsync(NanoBananaProtocolClient client, Prediction p)
    {
        for (var i = 0; i < 500 && !p.Status.IsTerminal; i++)
        {
            await Task.Delay(5);
            p = p.PollUrl is { } url && client.IsApiHost(url) ? await client.GetPredictionAsync(url) : await client.GetPredictionAsync(p.Id);
        }

        return p;
    }

    public static TheoryData<ApiProvider, ImageTier, string, string> ModelsAndProviders() => new()
    {
        { ApiProvider.GptProto, ImageTier.NanoBanana, "1K", "16:9" },
        { ApiProvider.GptProto, ImageTier.NanoBanana2, "0.5K", "1:8" },
        { ApiProvider.GptProto, ImageTier.NanoBananaPro, "2K", "3:4" },
        { ApiProvider.WaveSpeed, ImageTier.NanoBanana, "1K", "1:1" },
        { ApiProvider.WaveSpeed, ImageTier.NanoBanana2, "2K", "21:9" },
        { ApiProvider.WaveSpeed, ImageTier.NanoBananaPro, "1K", "9:16" },
        { ApiProvider.GptProtoUnified, ImageTier.NanoBanana, "1K", "3:2" },
        { ApiProvider.GptProtoUnified, ImageTier.NanoBanana2, "0.5K", "8:1" },
        { ApiProvider.GptProtoUnified, ImageTier.NanoBananaPro, "4K", "16:9" },
    };

    [Theory]
    [MemberData(nameof(ModelsAndProviders))]
    public async Task Submit_poll_download_for_each_model_and_provider(ApiProvider provider, ImageTier tier, string size, string ratio)
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator, o => o.Provider = provider);
        using var _ = http;
        var model = ModelCatalog.Default[tier];
        var accepted = await client.SubmitAsync(new SubmitRequest { Model = model, Prompt = "a lighthouse", Size = ImageSize.Parse(size), AspectRatio = AspectRatio.Parse(ratio) });
        Assert.False(accepted.Status.IsTerminal);
        Assert.NotNull(accepted.PollUrl);

        var done = await PollUntilDoneAsync(client, accepted);
        Assert.Equal(PredictionStatus.Completed, done.Status);
        Assert.Single(done.Outputs);

        using var png = new MemoryStream();
        var mediaType = await client.DownloadAsync(done.Outputs[0], png);
        Assert.Equal("image/png", mediaType);
        var expected = model.GetPixelSize(ImageSize.Parse(size), AspectRatio.Parse(ratio));
        Assert.Equal((expected.Width, expected.Height), PngWriter.ReadSize(png.ToArray()));

        var submit = Assert.Single(emulator.Requests, r => r.Kind == "submit");
        if (provider == ApiProvider.WaveSpeed)
        {
            Assert.Equal($"/api/v3/google/{model.WaveSpeedSlug}/text-to-image", submit.Path);
            Assert.Equal("Bearer", submit.AuthorizationScheme);
            Assert.Contains($"\"resolution\":\"{(size == "0.5K" ? "512" : size.ToLowerInvariant())}\"", submit.Body);
            Assert.DoesNotContain("\"size\"", submit.Body);
        }
        else if (provider == ApiProvider.GptProtoUnified)
        {
            Assert.Equal("/api/v3/images", submit.Path);
            Assert.Equal(202, submit.StatusCode);
            Assert.Equal("Bearer", submit.AuthorizationScheme);
            Assert.Contains($"\"model\":\"google/{model.Id}\"", submit.Body);
            Assert.Contains($"\"size\":\"{(size == "0.5K" ? "512" : size)}\"", submit.Body);
            Assert.Contains("\"output_format\":\"png\"", submit.Body);
            Assert.DoesNotContain("input_references", submit.Body);
            Assert.All(emulator.Requests.Where(r => r.Kind == "poll"), r => Assert.StartsWith("/api/v3/tasks/result/", r.Path));
            Assert.Equal(new Uri(emulator.BaseAddress, "/api/v3/tasks/result/" + Uri.EscapeDataString(accepted.Id)), accepted.PollUrl);
        }
        else
        {
            Assert.Equal($"/api/v3/google/{model.Id}/text-to-image", submit.Path);
            Assert.Equal("Raw", submit.AuthorizationScheme);
            Assert.Contains($"\"size\":\"{(size == "0.5K" ? "512" : size)}\"", submit.Body);
        }

        Assert.Contains($"\"aspect_ratio\":\"{ratio}\"", submit.Body);
        Assert.All(emulator.Requests.Where(r => r.Kind is "submit" or "poll"), r => Assert.True(r.AuthorizationValid));
        Assert.All(emulator.Requests.Where(r => r.Kind == "output"), r => Assert.False(r.HasAuthorization));
    }

    [Theory]
    [InlineData(ApiProvider.GptProto, "image-edit")]
    [InlineData(ApiProvider.WaveSpeed, "edit")]
    public async Task Image_edit_sends_input_urls_on_the_provider_route(ApiProvider provider, string route)
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator, o => o.Provider = provider);
        using var _ = http;
        var model = ModelCatalog.Default[ImageTier.NanoBanana2];
        var p = await client.SubmitAsync(new SubmitRequest { Model = model, Prompt = "put the cat on the sofa", Images = [new Uri("https://img.example/cat.png"), new Uri("https://img.example/sofa.png")] });
        Assert.Equal(PredictionStatus.Completed, (await PollUntilDoneAsync(client, p)).Status);
        var submit = Assert.Single(emulator.Requests, r => r.Kind == "submit");
        Assert.EndsWith("/" + route, submit.Path);
        Assert.Contains("\"images\":[\"https://img.example/cat.png\",\"https://img.example/sofa.png\"]", submit.Body);
    }

    [Fact]
    public async Task Unified_edit_sends_input_references_in_the_body()
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator, o => o.Provider = ApiProvider.GptProtoUnified);
        using var _ = http;
        var model = ModelCatalog.Default[ImageTier.NanoBananaPro];
        var p = await client.SubmitAsync(new SubmitRequest { Model = model, Prompt = "put the cat on the sofa", Images = [new Uri("https://img.example/cat.png"), new Uri("https://img.example/sofa.png")] });
        Assert.Equal(PredictionStatus.Completed, (await PollUntilDoneAsync(client, p)).Status);
        var submit = Assert.Single(emulator.Requests, r => r.Kind == "submit");
        Assert.Equal("/api/v3/images", submit.Path);
        Assert.Contains("\"input_references\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://img.example/cat.png\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://img.example/sofa.png\"}}]", submit.Body);
        Assert.DoesNotContain("\"images\"", submit.Body);
    }

    [Theory]
    [InlineData(true, false, "SyncMode")]
    [InlineData(false, true, "Base64Output")]
    public async Task Unified_refuses_what_its_api_cannot_do_before_sending(bool sync, bool base64, string property)
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator, o => o.Provider = ApiProvider.GptProtoUnified);
        using var _ = http;
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x", SyncMode = sync, Base64Output = base64 }));
        Assert.StartsWith(property, ex.Message, StringComparison.Ordinal);
        Assert.Empty(emulator.Requests);
    }

    [Fact]
    public async Task Sync_mode_returns_the_finished_prediction_in_one_request()
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x", SyncMode = true });
        Assert.Equal(PredictionStatus.Completed, p.Status);
        Assert.Single(p.Outputs);
        Assert.Single(emulator.Requests);
        Assert.Contains("\"enable_sync_mode\":true", emulator.Requests[0].Body);
    }

    [Fact]
    public async Task Base64_outputs_decode_to_the_right_png()
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var model = ModelCatalog.Default[ImageTier.NanoBananaPro];
        var p = await client.SubmitAsync(new SubmitRequest { Model = model, Prompt = "x", SyncMode = true, Base64Output = true, AspectRatio = AspectRatio.Parse("4:3") });
        Assert.DoesNotContain("://", p.Outputs[0]);
        using var png = new MemoryStream();
        Assert.Equal("image/png", await client.DownloadAsync(p.Outputs[0], png));
        Assert.Equal((1200, 896), PngWriter.ReadSize(png.ToArray()));
        Assert.DoesNotContain(emulator.Requests, r => r.Kind == "output");
    }

    [Fact]
    public async Task Urls_array_and_iso_timestamps_from_a_relay_parse()
    {
        await using var emulator = await Emu.StartAsync(o => { o.UrlsAsArray = true; o.IsoTimestamps = true; });
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" });
        Assert.NotNull(p.PollUrl);
        Assert.True(client.IsApiHost(p.PollUrl));
        Assert.NotNull(p.CreatedAt);
    }

    [Fact]
    public async Task Lean_poll_answers_with_only_status_outputs_and_error_complete_a_job()
    {
        // A relay that passes on only what WaveSpeedAI's SDKs read: no id, model, poll URL or timestamp in a poll answer.
        await using var emulator = await Emu.StartAsync(o => o.LeanPolls = true);
        using var raw = new HttpClient();
        using var client = Emu.Client(emulator);
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana2 });
        var result = await operation.WaitForCompletionAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.BaseAddress, $"api/v3/predictions/{Uri.EscapeDataString(operation.Id)}/result"));
        request.Headers.TryAddWithoutValidation("Authorization", Emu.Key);
        using var answer = await raw.SendAsync(request);
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == System.Net.HttpStatusCode.OK, $"{(int)answer.StatusCode} {answer.Headers} {answer.Content.Headers} «{text}»");
        using var json = System.Text.Json.JsonDocument.Parse(text);
        var names = json.RootElement.GetProperty("data").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["error", "outputs", "status"], names);

        Assert.Equal(operation.Id, result.PredictionId); // the id polled, since the answers name none
        Assert.Equal(ImageTier.NanoBanana2, result.Model.Tier);
        Assert.Equal((1024, 1024), PngWriter.ReadSize(await result.Images[0].GetBytesAsync()));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Statuses_the_protocol_does_not_name_are_read_as_keep_polling()
    {
        // "queued" and "running" instead of "created" and "processing": the job is waited for, not failed or abandoned.
        // Jobs of 80-160 ms, seen running only without a network in between.
        await using var emulator = await Emu.StartAsync(o => (o.QueuedStatus, o.RunningStatus, o.RequestDelay) = ("queued", "running", TimeSpan.Zero), timeScale: 0.02);
        using var client = Emu.Client(emulator);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var result = await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana2 }, new SyncProgress<Polling.GenerationProgress>(p => seen.Enqueue(p.Status.Value)));

        Assert.Equal((1024, 1024), PngWriter.ReadSize(await result.Images[0].GetBytesAsync()));
        Assert.Contains("queued", seen);
        Assert.Contains("running", seen);
        Assert.DoesNotContain("processing", seen);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    public static TheoryData<string> InvalidRequests() => ["empty prompt", "size", "ratio", "too many images", "relative image"];

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_requests_fail_before_anything_is_sent(string what)
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var nb = ModelCatalog.Default[ImageTier.NanoBanana];
        var request = what switch
        {
            "empty prompt" => new SubmitRequest { Model = nb, Prompt = "  " },
            "size" => new SubmitRequest { Model = nb, Prompt = "x", Size = ImageSize.TwoK },
            "ratio" => new SubmitRequest { Model = nb, Prompt = "x", AspectRatio = AspectRatio.Parse("8:1") },
            "too many images" => new SubmitRequest { Model = nb, Prompt = "x", Images = Enumerable.Range(0, 4).Select(i => new Uri($"https://i.example/{i}.png")).ToArray() },
            _ => new SubmitRequest { Model = nb, Prompt = "x", Images = [new Uri("/relative.png", UriKind.Relative)] },
        };
        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.SubmitAsync(request));
        Assert.NotNull(ex.ParamName);
        Assert.Contains(ex.ParamName!, ex.Message);
        Assert.Empty(emulator.Requests);
    }

    [Theory]
    [InlineData("""{"prompt":""}""", "prompt is required")]
    [InlineData("""{"prompt":"x","size":"2K"}""", "size 2K is not supported")]
    [InlineData("""{"prompt":"x","aspect_ratio":"1:8"}""", "aspect_ratio 1:8 is not supported")]
    [InlineData("""{"prompt":"x","images":["a","b","c","d"]}""", "too many images")]
    public async Task Emulator_validates_like_the_service_and_errors_map_to_the_api_exception(string body, string expected)
    {
        await using var emulator = await Emu.StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(emulator.ApiBaseUrl, "google/gemini-2.5-flash-image/text-to-image")) { Content = new StringContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization", Emu.Key);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var ex = WireParser.ApiError(response.StatusCode, null, await response.Content.ReadAsByteArrayAsync(), false, null, SecretRedactor.None, null, "Submit");
        Assert.Contains(expected, ex.ProviderMessage);
        Assert.Equal("invalid_parameter", ex.ErrorCode);
        Assert.Equal(0, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Unknown_model_is_a_404_from_the_emulator()
    {
        var options = new Catalog.ModelCatalogOptions();
        options.Models["NanoBanana2"] = new Catalog.ModelOverrideOptions { Id = "gemini-9-imaginary" };
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Create(options)[ImageTier.NanoBanana2], Prompt = "x" }));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Contains("gemini-9-imaginary", ex.ProviderMessage);
        Assert.Contains("provider knows model id gemini-9-imaginary", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_base_url_that_is_not_the_api_root_gets_a_404_that_says_to_check_it_and_nothing_is_accepted()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.BaseUrl = emulator.BaseAddress); // the server root, without api/v3/
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => client.GenerateAsync(new ImageJob("a lamp") { AllowFallback = false }));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Contains($"check that the base URL ({emulator.BaseAddress}) is the provider's API root, ending in /api/v3/", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was accepted or billed", ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.PredictionId);
        Assert.Equal(0, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_key_with_a_trailing_line_break_is_sent_trimmed_and_one_that_would_break_the_header_is_refused_unshown()
    {
        // The emulator accepts only Emu.Key. Read from a file, a key ends in a line break: it used to go out as it was,
        // ending the Authorization header early (the emulator then read the request as garbage: 400).
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.ApiKey = Emu.Key + "\n");
        Assert.Single((await client.GenerateAsync(new ImageJob("x"))).Images);
        Assert.All(emulator.Requests.Where(r => r.Kind is "submit" or "poll"), r => Assert.True(r.AuthorizationValid));

        // A line break inside made the key's tail a header of its own ("X-Evil: 1" reached the server); a non-ASCII
        // character failed after sending began, reported as an unknown outcome. Both are refused before any request.
        foreach (var key in new[] { Emu.Key + "\r\nX-Evil: 1", "sk-SECRET\u00e9KEY", "sk-SECRET\u0000KEY" })
        {
            var options = Emu.Options(emulator, o => o.ApiKey = key);
            var error = Assert.Single(options.Validate());
            Assert.StartsWith("NanoBanana:ApiKey has a character a request header cannot carry at position ", error, StringComparison.Ordinal);
            Assert.DoesNotContain("SECRET", error, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => new NanoBananaClient(options));
            using var http = new HttpClient();
            var direct = Assert.Throws<ArgumentException>(() => new NanoBananaProtocolClient(http, options));
            Assert.DoesNotContain("SECRET", direct.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Wrong_key_is_a_401_and_the_key_never_appears_in_the_exception()
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator, o => o.ApiKey = "sk-wrong-KEY-987");
        using var _ = http;
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" }));
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Equal("401", ex.ErrorCode);
        Assert.Equal("Invalid signature", ex.ProviderMessage);
        Assert.DoesNotContain("sk-wrong-KEY-987", ex.ToString());
        Assert.DoesNotContain("sk-wrong-KEY-987", ex.RawBodyExcerpt);
        Assert.Single(emulator.Requests);
    }

    [Fact]
    public async Task A_poll_url_on_a_foreign_host_is_refused_and_the_key_never_goes_there()
    {
        await using var foreign = await Emu.StartAsync();
        await using var emulator = await Emu.StartAsync(o => o.ForeignPollBaseUrl = foreign.BaseAddress);
        emulator.EnqueueFault(FaultKind.ForeignPollUrl, FaultTarget.Submit);
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" });
        Assert.Equal(foreign.BaseAddress.Port, p.PollUrl!.Port);
        Assert.False(client.IsApiHost(p.PollUrl));
        var ex = await Assert.ThrowsAsync<NanoBananaException>(() => client.GetPredictionAsync(p.PollUrl));
        Assert.Contains("Refusing to poll", ex.Message);
        Assert.Empty(foreign.Requests);
        Assert.Equal(PredictionStatus.Completed, (await PollUntilDoneAsync(client, new Prediction { Id = p.Id, Status = p.Status })).Status);
        Assert.Empty(foreign.Requests);
    }

    [Fact]
    public void Plain_http_is_only_allowed_for_loopback()
    {
        var options = new NanoBananaOptions { ApiKey = "k", BaseUrl = new Uri("http://api.example.com/api/v3/") };
        Assert.Contains(options.Validate(), e => e.Contains("plain http"));
        options.BaseUrl = new Uri("http://127.0.0.1:5000/api/v3/");
        Assert.Empty(options.Validate());
        Assert.Throws<ArgumentException>(() => new NanoBananaClient(new NanoBananaOptions { ApiKey = "k", BaseUrl = new Uri("http://api.example.com/") }));
    }

    [Fact]
    public void A_base_url_is_shown_without_user_info_or_query_and_a_relative_one_is_named_not_thrown_on()
    {
        var withSecrets = new NanoBananaOptions { ApiKey = "k", BaseUrl = new Uri("http://bob:hunter2@api.example.com/api/v3/?token=t0ps3cret") };
        var shown = string.Join(" ", withSecrets.Validate()) + " " + withSecrets;
        Assert.Contains("NanoBanana:BaseUrl 'http://api.example.com' uses plain http", shown, StringComparison.Ordinal);
        Assert.Contains("BaseUrl = http://api.example.com/api/v3/,", withSecrets.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("t0ps3cret", shown, StringComparison.Ordinal);

        var relative = new NanoBananaOptions { ApiKey = "k", BaseUrl = new Uri("gptproto.com/api/v3", UriKind.Relative) };
        Assert.Equal(
            ["NanoBanana:BaseUrl is not an absolute URL; give the API root with its scheme and host, e.g. https://gptproto.com/api/v3/."],
            relative.Validate());
        Assert.Contains("BaseUrl = (not an absolute URL)", relative.ToString(), StringComparison.Ordinal);
        var ex = Assert.Throws<ArgumentException>(() => new NanoBananaClient(relative));
        Assert.Contains("NanoBanana:BaseUrl is not an absolute URL", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FaultKind.InternalError)]
    [InlineData(FaultKind.Unavailable)]
    [InlineData(FaultKind.DropConnection)]
    [InlineData(FaultKind.RateLimited)]
    public async Task Transient_poll_faults_are_retried_by_the_transport(FaultKind fault)
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" });
        emulator.EnqueueFault(fault, FaultTarget.Poll);
        var polled = await client.GetPredictionAsync(p.Id);
        Assert.Equal(p.Id, polled.Id);
        Assert.Equal(2, emulator.Count("poll"));
        Assert.Equal(fault, emulator.Requests.First(r => r.Kind == "poll").Fault);
    }

    [Fact]
    public async Task Retry_after_is_a_floor_and_it_is_capped()
    {
        await using var emulator = await Emu.StartAsync(o => o.RetryAfterSeconds = 3600);
        var delays = new List<TimeSpan>();
        var options = Emu.Options(emulator, o => o.Retry.MaxRetryAfter = TimeSpan.FromMilliseconds(150));
        var handler = new NanoBananaResilienceHandler(options.Retry) { InnerHandler = new SocketsHttpHandler() };
        handler.Retrying += (_, _, delay) => delays.Add(delay);
        using var http = new HttpClient(handler);
        var client = new NanoBananaProtocolClient(http, options);
        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" });
        emulator.EnqueueFault(FaultKind.RateLimitedWithRetryAfter, FaultTarget.Poll);
        await client.GetPredictionAsync(p.Id);
        var delay = Assert.Single(delays);
        Assert.Equal(TimeSpan.FromMilliseconds(150), delay); // a 1-hour Retry-After capped at the configured 150 ms

        // Without a cap in play the header sets the delay above the (tiny) backoff; without a header Polly's backoff runs.
        var floor = new NanoBananaResilienceHandler(new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) });
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(2), floor.RetryAfterDelay(Polly.Outcome.FromResult(response)));
        using var bare = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        Assert.Null(floor.RetryAfterDelay(Polly.Outcome.FromResult(bare)));
    }

    [Fact]
    public async Task Backoff_is_Pollys_jittered_exponential_capped_at_MaxDelay()
    {
        await using var emulator = await Emu.StartAsync();
        var delays = new List<TimeSpan>();
        var options = Emu.Options(emulator, o => { o.Retry.BaseDelay = TimeSpan.FromMilliseconds(4); o.Retry.MaxDelay = TimeSpan.FromMilliseconds(12); o.Retry.MaxRetries = 4; });
        var handler = new NanoBananaResilienceHandler(options.Retry) { InnerHandler = new SocketsHttpHandler() };
        handler.Retrying += (_, _, delay) => delays.Add(delay);
        using var http = new HttpClient(handler);
        var client = new NanoBananaProtocolClient(http, options);
        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" });
        emulator.EnqueueFault(FaultKind.Unavailable, FaultTarget.Poll, count: 4);
        await client.GetPredictionAsync(p.Id);
        Assert.Equal(4, delays.Count);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(12)));
    }

    [Fact]
    public async Task Pollys_retry_events_reach_the_sdks_logger()
    {
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        long events = 0;
        using var meter = new System.Diagnostics.Metrics.MeterListener();
        meter.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "NanoBanana" && instrument.Name == "nanobanana.transport.events")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meter.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref events, value));
        meter.Start();
        using var client = Emu.Client(emulator, loggers: logs);
        emulator.EnqueueFault(FaultKind.Unavailable, FaultTarget.Poll, count: 2);
        var result = await client.GenerateAsync(new ImageJob("x"));
        var retries = logs.Entries.Where(e => e.Message.StartsWith("Transport retry", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, retries.Length);
        Assert.All(retries, e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.Contains("GET /api/v3/predictions/", retries[0].Message);
        Assert.Contains("after HTTP 503", retries[0].Message);
        Assert.Contains("Transport retry 2 ", retries[1].Message);
        Assert.DoesNotContain(logs.Entries, e => e.Message.StartsWith("Transport ", StringComparison.Ordinal) && !e.Message.StartsWith("Transport retry", StringComparison.Ordinal)); // not every pipeline run
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(Emu.Key));
        Assert.True(Interlocked.Read(ref events) >= 2, "each retry counts in nanobanana.transport.events");
        Assert.NotNull(result.PredictionId);
    }

    [Fact]
    public async Task Malformed_poll_body_is_reported_as_a_typed_exception()
    {
        await using var emulator = await Emu.StartAsync();
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" });
        emulator.EnqueueFault(FaultKind.MalformedJson, FaultTarget.Poll);
        var ex = await Assert.ThrowsAsync<MalformedResponseException>(() => client.GetPredictionAsync(p.Id));
        Assert.Equal(p.Id, ex.PredictionId);
        Assert.Contains("502 Bad Gateway", ex.RawBodyExcerpt);
    }

    [Theory]
    [InlineData(FaultKind.InternalError)]
    [InlineData(FaultKind.DropConnection)]
    public async Task A_submit_that_may_have_been_accepted_is_never_repeated(FaultKind fault)
    {
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(fault, FaultTarget.Submit);
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" }));
        Assert.Contains("NOT repeated", ex.Message);
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Theory]
    [InlineData(FaultKind.MalformedJson, true)] // the JSON stops after the id: invalid from there on
    [InlineData(FaultKind.CutBody, true)] // the connection is dropped mid-body
    [InlineData(FaultKind.OversizedBody, true)] // the answer runs past MaxJsonBytes
    [InlineData(FaultKind.MalformedJson, false)] // with an HttpClient of the caller's, which reads the body itself
    [InlineData(FaultKind.CutBody, false)]
    [InlineData(FaultKind.OversizedBody, false)]
    public async Task A_submit_answer_that_breaks_off_after_naming_its_prediction_is_that_prediction(FaultKind fault, bool sdkTransport)
    {
        // The job was accepted and its answer said so before it broke off: that id is followed, not dropped as an unknown
        // outcome (which left a paid job nobody could collect).
        await using var emulator = await Emu.StartAsync(o => o.OversizedBodyBytes = 3_000_000);
        emulator.EnqueueFault(fault, FaultTarget.Submit);
        var options = Emu.Options(emulator);
        using var http = sdkTransport ? NanoBananaClient.CreateHttpClient(options) : new HttpClient();
        var client = new NanoBananaProtocolClient(http, options);

        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" });

        var job = emulator.Jobs.Single();
        Assert.Equal(job.Id, p.Id);
        Assert.Equal(PredictionStatus.Created, p.Status);
        Assert.NotNull(p.ReadInPart);
        Assert.Equal(1, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);
        var done = await PollUntilDoneAsync(client, p);
        Assert.Equal(PredictionStatus.Completed, done.Status);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_submit_cancelled_while_its_answer_hangs_after_naming_the_prediction_is_an_unknown_outcome_that_carries_it(bool sdkTransport)
    {
        var options = new NanoBananaOptions { ApiKey = "k", BaseUrl = new Uri("http://127.0.0.1:9/api/v3/") };
        var hanging = new HangsAfter("""{"code":200,"message":"success","data":{"id":"pred-7","status":"created","urls":{"get":"htt""");
        using var http = sdkTransport
            ? new HttpClient(new NanoBananaResilienceHandler(options.Retry) { InnerHandler = hanging })
            : new HttpClient(hanging);
        var client = new NanoBananaProtocolClient(http, options);
        using var cts = new CancellationTokenSource();
        var submit = client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" }, cts.Token);
        await hanging.Hanging.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cts.Cancel();

        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => submit);
        Assert.Equal("pred-7", ex.PredictionId);
        Assert.Contains("named prediction pred-7 before it broke off", ex.Message, StringComparison.Ordinal);
        Assert.Contains("NOT repeated", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, hanging.Requests);
    }

    // Answers 200 with the start of a body, then holds the rest until the reader gives up.
    private sealed class HangsAfter(string start) : HttpMessageHandler
    {
        public TaskCompletionSource Hanging { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Requests { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests++;
            await request.Content!.ReadAsByteArrayAsync(cancellationToken); // the submit leaves, as over a socket
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new HangingStream(Encoding.UTF8.GetBytes(start), Hanging)) };
        }
    }

    private sealed class HangingStream(byte[] start, TaskCompletionSource hanging) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < start.Length)
            {
                var n = Math.Min(buffer.Length, start.Length - _position);
                start.AsMemory(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            hanging.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }

    [Fact]
    public async Task A_submit_that_times_out_is_not_repeated()
    {
        await using var emulator = await Emu.StartAsync(o => o.SlowSubmitDelay = TimeSpan.FromSeconds(10));
        var (client, http) = Protocol(emulator, o => o.Retry.SubmitTimeout = TimeSpan.FromSeconds(1));
        using var _ = http;
        await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "warm-up" }); // JIT and connection, so the timed submit surely arrives
        emulator.EnqueueFault(FaultKind.SlowSubmit, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" }));
        Assert.Contains("timed out", ex.Message);
        Assert.Equal(2, emulator.Count("submit"));
        Assert.Equal(2, emulator.AcceptedSubmits); // the held submit was accepted (billed) and not sent again
    }

    [Fact]
    public async Task A_rate_limited_submit_is_retried_by_default_and_not_when_turned_off_or_overridden()
    {
        // A 429 was not accepted, so sending again is safe; by default the submit is retried (with Retry-After as a floor).
        await using var emulator = await Emu.StartAsync();
        emulator.EnqueueFault(FaultKind.RateLimitedWithRetryAfter, FaultTarget.Submit);
        var (client, http) = Protocol(emulator);
        using var _ = http;
        var p = await client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" });
        Assert.NotNull(p.Id);
        Assert.Equal(2, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);

        // Turned off: the first 429 is the answer.
        emulator.EnqueueFault(FaultKind.RateLimited, FaultTarget.Submit);
        var (optOut, http2) = Protocol(emulator, o => o.Retry.RetrySubmitOnRateLimit = false);
        using var __ = http2;
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => optOut.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" }));
        Assert.Equal(HttpStatusCode.TooManyRequests, ex.StatusCode);
        Assert.Equal(3, emulator.Count("submit"));

        // Overridden for one submit (what a batch does: it handles its 429s itself).
        emulator.EnqueueFault(FaultKind.RateLimited, FaultTarget.Submit);
        ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x", RetryOnRateLimit = false }));
        Assert.Equal(HttpStatusCode.TooManyRequests, ex.StatusCode);
        Assert.Equal(4, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task A_submit_to_a_closed_port_is_retried_then_reported_as_not_sent()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var options = new NanoBananaOptions { ApiKey = Emu.Key, BaseUrl = new Uri($"http://127.0.0.1:{port}/api/v3/") };
        options.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(2);
        var attempts = 0;
        var handler = new NanoBananaResilienceHandler(options.Retry) { InnerHandler = new SocketsHttpHandler() };
        handler.Retrying += (_, _, _) => attempts++;
        using var http = new HttpClient(handler);
        var client = new NanoBananaProtocolClient(http, options);
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => client.SubmitAsync(new SubmitRequest { Model = ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "x" }));
        Assert.Equal("connection_failed", ex.ErrorCode);
        Assert.Contains("nothing billed", ex.Message);
        Assert.Contains($"the service at http://127.0.0.1:{port}/api/v3/ could not be reached", ex.Message, StringComparison.Ordinal); // where it looked
        Assert.Equal(options.Retry.MaxSubmitRetries, attempts);
    }

    [Fact]
    public async Task Clients_made_and_disposed_per_job_share_one_connection_pool()
    {
        // The anti-pattern a web handler falls into: a client per request. Each used to own a connection pool and
        // close it when disposed (a socket left in TIME_WAIT per client, a handshake per job over TLS).
        await using var emulator = await Emu.StartAsync();
        for (var i = 0; i < 20; i++)
        {
            using var client = Emu.Client(emulator);
            var result = await client.GenerateAsync(new ImageJob("a lamp " + i));
            Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        }

        var shared = emulator.Requests.Select(r => r.ConnectionId).Distinct().ToList();
        Assert.True(shared.Count <= 3, $"20 clients in turn used {shared.Count} connections");
        Assert.Equal(20, emulator.AcceptedSubmits);

        // A client whose download policy differs gets a pool of its own: the transport judges a download's addresses
        // only when it opens a connection, so one client's connection must never serve a client that would refuse it.
        emulator.ClearLog();
        using (var other = Emu.Client(emulator, o => o.Limits.AllowedOutputHosts.Add("cdn.internal.example")))
        {
            var result = await other.GenerateAsync(new ImageJob("a mug"));
            Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        }

        Assert.DoesNotContain(emulator.Requests, r => shared.Contains(r.ConnectionId));
    }
}
