using System.Net;
using System.Text;
using NanoBanana.Emulator;
using NanoBanana.Polling;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

/// <summary>Reading what providers actually send: the parser's rules, and the ones that need a server.</summary>
public class ProviderFidelityTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Theory]
    [InlineData(ApiProvider.GptProto, "https://gptproto.com/api/v3/predictions/2b9a360d9/result", "2b9a360d9")]
    [InlineData(ApiProvider.GptProto, "https://gptproto.com/api/v3/predictions/sora-2%3Atask%2Fx/result", "sora-2:task/x")]
    [InlineData(ApiProvider.WaveSpeed, "https://api.wavespeed.ai/api/v3/predictions/abc/result", "abc")]
    [InlineData(ApiProvider.GptProtoUnified, "https://gptproto.com/api/v3/tasks/result/job-1", "job-1")]
    [InlineData(ApiProvider.GptProtoUnified, "https://gptproto.com/api/v3/predictions/abc/result", null)] // not this provider's route
    [InlineData(ApiProvider.GptProto, "https://gptproto.com/api/v3/predictions/abc", null)]
    [InlineData(ApiProvider.GptProto, "https://gptproto.com/api/v3/predictions//result", null)]
    [InlineData(ApiProvider.GptProto, "https://gptproto.com/api/v3/predictions/%20/result", null)]
    [InlineData(ApiProvider.GptProto, "https://gptproto.com/other/predictions/abc/result", null)] // outside the base path
    [InlineData(ApiProvider.GptProto, "https://elsewhere.example/api/v3/predictions/abc/result", null)] // another host
    public void A_poll_url_names_its_prediction_only_when_it_is_the_providers_poll_route(ApiProvider provider, string url, string? id)
    {
        var options = new NanoBananaOptions { Provider = provider };
        Assert.Equal(id, ProviderProfile.From(options).PredictionIdIn(new Uri(url)));
    }

    [Fact]
    public async Task Polling_by_url_a_relay_that_names_no_prediction_keeps_the_id_the_url_names()
    {
        // GetPredictionAsync(Uri) knew no id, so a lean answer ("processing", no id) was malformed, and an error carried none.
        await using var emulator = await Emu.StartAsync(o => (o.LeanPolls, o.IdPrefix) = (true, "sora-2:task/"), timeScale: 1);
        var options = Emu.Options(emulator);
        using var http = NanoBananaClient.CreateHttpClient(options);
        var client = new NanoBananaProtocolClient(http, options);
        var accepted = await client.SubmitAsync(new SubmitRequest { Model = Catalog.ModelCatalog.Default[ImageTier.NanoBanana2], Prompt = "a lamp" });

        var polled = await client.GetPredictionAsync(accepted.PollUrl!);
        Assert.Equal(accepted.Id, polled.Id);
        Assert.False(polled.Status.IsTerminal);
        Assert.Null(polled.PollUrl); // the answer was lean indeed
    }

    [Fact]
    public void A_poll_body_without_an_id_takes_the_known_id()
    {
        var p = WireParser.ParsePrediction(B("""{"data":{"status":"failed","error":"boom"}}"""), knownId: "abc:1/2");
        Assert.Equal("abc:1/2", p.Id);
        Assert.Equal(PredictionStatus.Failed, p.Status);
        Assert.Equal("boom", p.Error);
    }

    [Theory]
    [InlineData("""{"data":{"id":"x","outputs":[]}}""", "no data.status")]
    [InlineData("""{"data":{}}""", "neither data.id nor data.status")]
    [InlineData("""{"code":200,"message":"success","data":null}""", "neither data.id nor data.status")]
    public void A_poll_body_without_a_status_is_malformed_not_still_running(string body, string why)
    {
        var ex = Assert.Throws<MalformedResponseException>(() => WireParser.ParsePrediction(B(body), knownId: "x"));
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_submit_answer_with_an_id_and_no_status_is_accepted()
    {
        var p = WireParser.ParsePrediction(B("""{"data":{"id":"job-1"}}"""), isSubmit: true);
        Assert.Equal("job-1", p.Id);
        Assert.Equal(PredictionStatus.Created, p.Status);
    }

    [Fact]
    public void Without_any_id_only_a_finished_answer_is_usable()
    {
        var done = WireParser.ParsePrediction(B("""{"data":{"status":"completed","outputs":["https://cdn.example/a.png"]}}"""), isSubmit: true);
        Assert.Equal("", done.Id);
        Assert.Single(done.Outputs);
        var ex = Assert.Throws<MalformedResponseException>(() => WireParser.ParsePrediction(B("""{"data":{"status":"processing"}}"""), isSubmit: true));
        Assert.Contains("no data.id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_inside_a_2xx_envelope_is_an_api_error_with_its_status_and_message()
    {
        var ex = Assert.Throws<NanoBananaApiException>(() => WireParser.ParsePrediction(B("""{"code":404,"message":"prediction not found","data":null}"""), knownId: "p1", operation: "Polling p1"));
        Assert.IsNotType<MalformedResponseException>(ex);
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("prediction not found", ex.ProviderMessage);
        Assert.Equal("p1", ex.PredictionId);
        Assert.StartsWith("Polling p1 failed: HTTP 404", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Prediction not found", "Prediction not found")]
    [InlineData("  API Error\r\n\r\n  try again later ", "API Error try again later")]
    [InlineData("\"Rate limited\"", "Rate limited")]
    [InlineData("<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head><body>…</body></html>", "503 Service Temporarily Unavailable")]
    [InlineData("""{"detail":"Not authenticated"}""", "Not authenticated")]
    [InlineData("<html><body>no title here</body></html>", null)]
    public void Plain_text_error_bodies_reach_the_message_and_ProviderMessage(string body, string? expected)
    {
        var ex = WireParser.ApiError(HttpStatusCode.NotFound, "Not Found", B(body), false, null, SecretRedactor.None, "p1", "Polling p1");
        Assert.Equal(expected, ex.ProviderMessage);
        if (expected is not null)
        {
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_plain_text_error_is_redacted_before_it_is_cut()
    {
        var body = new string('x', 290) + " key " + Emu.Key + " and more text after the key";
        var ex = WireParser.ApiError(HttpStatusCode.BadGateway, null, B(body), false, null, new SecretRedactor(Emu.Key), null, "Submit");
        Assert.DoesNotContain(Emu.Key[..6], ex.ProviderMessage!, StringComparison.Ordinal);
        Assert.DoesNotContain(Emu.Key[..6], ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("…", ex.ProviderMessage!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(503, null, "Content policy violation", true)]
    [InlineData(400, "content_policy_violation", "rejected", true)]
    [InlineData(400, null, "The prompt was blocked by the safety system", true)]
    [InlineData(503, "service_unavailable", "Upstream unavailable", false)]
    [InlineData(500, null, "Content policy violation", false)] // a 500 may have been accepted: never a caller error
    [InlineData(429, null, "policy: too many requests", false)]
    public void Content_policy_refusals_are_told_apart_from_capacity(int status, string? code, string message, bool refusal)
    {
        var ex = new NanoBananaApiException("x") { StatusCode = (HttpStatusCode)status, ErrorCode = code, ProviderMessage = message };
        Assert.Equal(refusal, ProviderProfile.IsContentPolicyRefusal(ex));
    }

    [Fact]
    public async Task Ids_with_colons_and_slashes_round_trip_through_poll_paths_and_resume()
    {
        await using var emulator = await Emu.StartAsync(o => o.IdPrefix = "sora-2:task_01/gen/");
        using var client = Emu.Client(emulator);
        var operation = await client.StartGenerationAsync(new ImageJob("a red kite"));
        Assert.StartsWith("sora-2:task_01/gen/", operation.Id, StringComparison.Ordinal);

        var polled = await client.Protocol.GetPredictionAsync(operation.Id);
        Assert.Equal(operation.Id, polled.Id);
        var resumed = await client.ResumeAsync(operation.Id, operation.Model.Id);
        Assert.Equal(operation.Id, resumed.PredictionId);
        Assert.NotEmpty(await resumed.Images[0].GetBytesAsync());
        Assert.All(emulator.Requests.Where(r => r.Kind == "poll"), r => Assert.Equal(operation.Id, r.PredictionId));
        Assert.Contains(emulator.Requests, r => r.Kind == "poll" && r.Path.Contains("%2F", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_status_that_never_comes_ends_in_a_clear_error_after_a_bounded_number_of_polls_not_at_the_deadline()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Deadline = TimeSpan.FromMinutes(10));
        for (var i = 0; i < 50; i++)
        {
            emulator.EnqueueReply(new EmulatorReply(200, """{"code":200,"message":"success","data":{"id":"%ID%"}}"""), FaultTarget.Poll);
        }

        var ex = await Assert.ThrowsAsync<MalformedResponseException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Contains("no data.status", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.PredictionId);
        Assert.Equal(client.Options.Polling.MaxConsecutiveMalformed + 1, emulator.Count("poll"));
    }

    [Fact]
    public async Task A_submit_500_keeps_the_providers_words_on_the_outcome_unknown_exception()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueReply(new EmulatorReply(500, """{"error":{"message":"scheduler crashed","type":"500"}}"""), FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Equal("scheduler crashed", ex.ProviderMessage);
        Assert.Equal(HttpStatusCode.InternalServerError, ex.StatusCode);
        Assert.Contains("scheduler crashed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_content_policy_refusal_goes_to_no_other_model_even_with_fallbacks_on()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.FallbackWhenNotAccepted = true);
        emulator.EnqueueReply(new EmulatorReply(503, "503 - Content policy violation", "text/plain") { AcceptsJob = false }, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<ContentPolicyException>(() => client.GenerateAsync(new ImageJob("something refused")));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Equal("503 - Content policy violation", ex.ProviderMessage);
        Assert.NotNull(ex.ModelId);
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_gateway_that_could_not_reach_the_service_took_nothing_so_the_job_moves_on_when_not_sent_again()
    {
        // Cloudflare's 522: the gateway never reached the service. With the transport's resend turned off, the job goes to
        // the next model as after a 503; a 524 (the service got it) would be an unknown outcome instead (ConformanceTests).
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Retry.RetrySubmitWhenNotSent = false);
        emulator.EnqueueReply(new EmulatorReply(522, "<html><title>522: Connection timed out</title></html>", "text/html") { AcceptsJob = false }, FaultTarget.Submit);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.Equal(AttemptOutcome.NotAccepted, result.Attempts[0].Outcome);
        Assert.Contains("could not reach it, so nothing was accepted or billed", result.Attempts[0].Error, StringComparison.Ordinal);
        Assert.Equal(2, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Completed_without_outputs_moves_on_only_when_the_caller_opts_in()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.FallbackOnEmptyOutput = true);
        for (var i = 0; i <= new PollingOptions().EmptyCompletionRechecks; i++) // the answer, and every recheck of it
        {
            emulator.EnqueueReply(new EmulatorReply(200, """{"data":{"status":"completed","outputs":[]}}"""), FaultTarget.Poll);
        }

        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.Equal(2, emulator.AcceptedSubmits);
        Assert.Contains("without outputs", result.Attempts[0].Error, StringComparison.Ordinal);
        Assert.NotNull(result.Attempts[0].PredictionId);
    }

    [Fact]
    public async Task A_finished_status_the_sdk_does_not_know_is_said_once_named_at_the_deadline_and_an_alias_then_collects_the_paid_image()
    {
        // A relay that says "succeeded" for completed. The protocol's rule reads an unknown status as still running, so
        // without an alias the wait ends at its deadline: the client says so once (not once per poll or per job), the
        // timeout names the status and the setting, and a client with the alias resumes the same prediction to its image
        // without submitting it again.
        await using var emulator = await Emu.StartAsync(o => o.CompletedStatus = "succeeded");
        var time = new ManualTimeProvider();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs, time: time);
        var timeouts = new List<PredictionTimeoutException>();
        foreach (var prompt in new[] { "a lamp", "a chair" })
        {
            var job = client.GenerateAsync(new ImageJob(prompt) { Deadline = TimeSpan.FromSeconds(20), AllowFallback = false });
            await ClientTests.AdvanceUntilAsync(time, job, TimeSpan.FromMinutes(5));
            timeouts.Add(await Assert.ThrowsAsync<PredictionTimeoutException>(() => job));
        }

        Assert.All(timeouts, t =>
        {
            Assert.Equal("succeeded", t.LastStatus);
            Assert.Contains("does not know the status 'succeeded'", t.Message, StringComparison.Ordinal);
            Assert.Contains("NanoBanana:StatusAliases", t.Message, StringComparison.Ordinal);
        });
        // Nor did the waits teach the schedule that the model takes 20 s: the word may have meant "done" all along. Only
        // the documented "created"/"processing" answers (a job of a few milliseconds) bound what was learnt.
        Assert.All(client.LatencyStatistics.Observations(client.Catalog.Models.Single(m => m.Id == timeouts[0].ModelId)), o => Assert.True(o.Lower < 5, o.ToString()));
        var said = logs.Entries.Where(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("'succeeded', which the SDK does not know", StringComparison.Ordinal)).ToArray();
        Assert.Single(said);
        Assert.Contains(Diagnostics.SafeText.Value(timeouts[0].PredictionId)!, said[0].Message, StringComparison.Ordinal);

        var aliasLogs = new CapturingLoggerProvider();
        using var aliased = Emu.Client(emulator, o => o.StatusAliases["SUCCEEDED"] = "completed", loggers: aliasLogs);
        foreach (var timeout in timeouts)
        {
            var result = await aliased.ResumeAsync(timeout.PredictionId!, timeout.ModelId).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(timeout.PredictionId, result.PredictionId);
            Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        }

        Assert.Equal(2, emulator.AcceptedSubmits); // the two jobs, each paid once
        Assert.DoesNotContain(aliasLogs.Entries, e => e.Message.Contains("does not know", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_aliases_a_relays_own_words_end_waits_as_the_documented_ones_do_sync_mode_in_one_request()
    {
        await using var emulator = await Emu.StartAsync(o => (o.CompletedStatus, o.FailedStatus) = ("Success", "error"));
        using var client = Emu.Client(emulator, o =>
        {
            o.StatusAliases["success"] = "completed";
            o.StatusAliases["error"] = "failed";
        });

        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());

        emulator.EnqueueFault(FaultKind.JobFails, FaultTarget.Submit);
        var failed = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("a chair") { AllowFallback = false }));
        Assert.Equal(5000, failed.TaskErrorCode);
        Assert.Equal(2, emulator.AcceptedSubmits);

        using var sync = Emu.Client(emulator, o => (o.UseSyncMode, o.StatusAliases["success"]) = (true, "completed"));
        var before = emulator.Requests.Count;
        var immediate = await sync.GenerateAsync(new ImageJob("a desk") { Base64Output = true });
        Assert.Equal(0, immediate.PollCount);
        Assert.Equal(before + 1, emulator.Requests.Count);
        Assert.True(immediate.Images[0].IsInline);
    }

    [Theory]
    [InlineData("SUCCEEDED", "completed", true, true)]
    [InlineData("error", "failed", true, false)]
    [InlineData("In_Queue", "in_queue", false, false)] // unknown and plainly running: read as still running, no alias needed
    [InlineData("completed", "completed", true, true)] // the SDK's own words are untouched
    public void The_parser_reads_a_status_through_the_aliases_ignoring_case(string wire, string expected, bool terminal, bool completed)
    {
        var statuses = new StatusVocabulary(new Dictionary<string, string> { ["succeeded"] = "Completed", [" error "] = "failed" });
        var p = WireParser.ParsePrediction(B("""{"data":{"id":"a","status":"WIRE","outputs":["https://cdn.example/a.png"]}}""".Replace("WIRE", wire, StringComparison.Ordinal)), statuses: statuses);
        Assert.Equal(expected, p.Status.Value);
        Assert.Equal(terminal, p.Status.IsTerminal);
        Assert.Equal(completed, p.Status.IsCompleted);
        Assert.Equal("succeeded", WireParser.ParsePrediction(B("""{"data":{"id":"a","status":"succeeded"}}""")).Status.Value); // no aliases: as sent
    }

    [Fact]
    public void A_protocol_client_built_without_the_facade_refuses_aliases_the_options_validation_refuses()
    {
        // The facade validates its options first; a protocol client built directly used to drop a bad target silently,
        // read "completed" as "failed" when told to, and fail on keys that differ only in spaces with "same key".
        using var http = new HttpClient();
        foreach (var (word, target, expected) in new[]
        {
            ("completed", "failed", "StatusAliases:completed: 'completed' is one of the SDK's own statuses"),
            ("succeeded", "done", "StatusAliases:succeeded must be one of"),
            ("error ", "failed", "'error' is given more than once"),
        })
        {
            var options = new NanoBananaOptions { ApiKey = "k" };
            options.StatusAliases["error"] = "failed";
            options.StatusAliases[word] = target;
            var ex = Assert.Throws<ArgumentException>(() => new NanoBananaProtocolClient(http, options));
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_unfamiliar_status_is_said_once_per_client_and_at_most_sixteen_words_are_remembered()
    {
        var statuses = new StatusVocabulary(null);
        Assert.False(statuses.FirstUnfamiliar("processing"));
        Assert.False(statuses.FirstUnfamiliar("queued"));
        Assert.True(statuses.FirstUnfamiliar("succeeded"));
        Assert.False(statuses.FirstUnfamiliar("succeeded"));
        Assert.Equal(15, Enumerable.Range(0, 40).Count(i => statuses.FirstUnfamiliar($"word{i}")));
        Assert.True(new StatusVocabulary(null).FirstUnfamiliar("succeeded")); // another client says it again
    }

    [Theory]
    [InlineData("/files/a.png", "https://gptproto.com/files/a.png")]
    [InlineData("/api/v3/outputs/x%2Fy/0.png?sig=1", "https://gptproto.com/api/v3/outputs/x%2Fy/0.png?sig=1")]
    [InlineData("//cdn.example/a.png", "https://cdn.example/a.png")]
    [InlineData("https://cdn.example/a.png", "https://cdn.example/a.png")]
    [InlineData("/9j/4AAQSkZJRgABAQ", null)] // a bare base64 JPEG starts so: inline
    [InlineData("/files/a b.png", null)] // a space: not a reference
    [InlineData("/files/\u001b[2Ja.png", null)] // an escape: not a reference
    [InlineData("/", null)]
    [InlineData("files/a.png", null)] // relative to which path? not guessed
    [InlineData("data:image/png;base64,iVBORw0KGgo=", null)]
    public void An_output_relative_to_the_apis_origin_is_a_url_there(string output, string? expected)
    {
        var api = new Uri("https://gptproto.com/api/v3/");
        Assert.Equal(expected is not null, OutputDecoder.LooksLikeUrl(output, api, out var uri));
        Assert.Equal(expected, uri?.AbsoluteUri);
        if (!output.Contains("://", StringComparison.Ordinal))
        {
            Assert.False(OutputDecoder.LooksLikeUrl(output, null, out _)); // without an API to resolve against, never a URL
        }
    }

    [Fact]
    public void A_scheme_relative_output_is_judged_by_the_output_policy_like_any_other()
    {
        var options = new NanoBananaOptions { ApiKey = "k" };
        using var http = new HttpClient();
        var protocol = new NanoBananaProtocolClient(http, options);
        var ex = Assert.Throws<OutputUnavailableException>(() => new GeneratedImage(protocol, "//169.254.169.254/latest/meta-data/", false, null, "p-1"));
        Assert.Contains("https://169.254.169.254/latest/meta-data/", ex.Message, StringComparison.Ordinal);
        Assert.Contains("link-local", ex.Message, StringComparison.Ordinal);
        Assert.Equal("p-1", ex.PredictionId);
    }

    [Theory]
    [InlineData(OutputUrlForm.RootRelative)]
    [InlineData(OutputUrlForm.SchemeRelative)]
    public async Task An_output_url_relative_to_the_services_origin_is_resolved_and_fetched_without_the_key(OutputUrlForm form)
    {
        // Read as neither a URL nor base64, a relay's "/outputs/…" lost a paid image, and resuming met the same answer.
        await using var emulator = await Emu.StartAsync(o => o.OutputUrls = form);
        using var client = Emu.Client(emulator);
        var result = await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana2 });

        var image = Assert.Single(result.Images);
        Assert.Equal(emulator.BaseAddress.GetLeftPart(UriPartial.Authority), image.Uri!.GetLeftPart(UriPartial.Authority));
        Assert.StartsWith("/outputs/", image.Uri.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal((1024, 1024), PngWriter.ReadSize(await image.GetBytesAsync()));
        var download = Assert.Single(emulator.Requests, r => r.Kind == "output");
        Assert.False(download.HasAuthorization); // on the API's host, and still without the key
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Theory]
    [InlineData("""[{"uri":"https://cdn.example/a.png"}]""", "https://cdn.example/a.png")]
    [InlineData("""[{"href":"https://cdn.example/a.png","rel":"image"}]""", "https://cdn.example/a.png")]
    [InlineData("""[{"image_url":{"url":"https://cdn.example/a.png"}}]""", "https://cdn.example/a.png")]
    [InlineData("""[{"image_url":"https://cdn.example/a.png"}]""", "https://cdn.example/a.png")]
    [InlineData("""[{"b64_json":"iVBORw0KGgo="}]""", "iVBORw0KGgo=")]
    [InlineData("""[{"base64":"iVBORw0KGgo="}]""", "iVBORw0KGgo=")]
    [InlineData("""{"url":"https://cdn.example/a.png"}""", "https://cdn.example/a.png")] // one object, not in a list
    [InlineData("""[{"url":5,"uri":"https://cdn.example/a.png"}]""", "https://cdn.example/a.png")] // a number is not a URL
    public void Outputs_under_the_names_relays_use_are_read(string outputs, string expected)
    {
        var p = WireParser.ParsePrediction(B("""{"data":{"id":"p","status":"completed","outputs":""" + outputs + "}}"));
        Assert.Equal([expected], p.Outputs);
        Assert.Equal(0, p.UnreadOutputs);
    }

    [Theory]
    [InlineData("""[{"img":"x","w":1}]""", 0, 1, "an object with the properties \"img\", \"w\"")]
    [InlineData("""[7, "https://cdn.example/a.png", null, ""]""", 1, 1, "a number")]
    [InlineData("""[{}, {"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}]""", 0, 2, "an empty object")]
    [InlineData("""[{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}]""", 0, 1, "an object with the properties \"a\", \"b\", \"c\", \"d\" and 2 more")]
    [InlineData("""[{"\u001b[2Jimage":"x"}]""", 0, 1, "an object with the property \"\\u001B[2Jimage\"")]
    [InlineData("{}", 0, 0, null)] // an empty object in place of the list: no outputs
    public void Outputs_in_a_shape_the_sdk_does_not_read_are_counted_and_described_not_skipped_unseen(string outputs, int read, int unread, string? shape)
    {
        var p = WireParser.ParsePrediction(B("""{"data":{"id":"p","status":"completed","outputs":""" + outputs + "}}"));
        Assert.Equal(read, p.Outputs.Count);
        Assert.Equal(unread, p.UnreadOutputs);
        Assert.Equal(shape, p.UnreadOutputShape);
    }

    [Fact]
    public async Task A_completed_job_whose_outputs_the_sdk_cannot_read_says_what_came_and_goes_to_no_other_model()
    {
        // Skipped unseen, such outputs made "completed without outputs", and FallbackOnEmptyOutput then paid a second
        // model for a job whose image existed.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.FallbackOnEmptyOutput = true);
        emulator.EnqueueReply(new EmulatorReply(200, """{"data":{"id":"%ID%","status":"completed","outputs":[{"image":{"data":"iVBOR"},"mime":"image/png"}]}}"""), FaultTarget.Poll);
        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("a lamp")));

        Assert.Contains("output came in a shape the SDK does not read (an object with the properties \"image\", \"mime\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not sent to another model", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.PredictionId);
        Assert.Equal("completed", ex.Status);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Outputs_read_beside_unread_ones_make_the_result_and_the_unread_are_logged()
    {
        await using var emulator = await Emu.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, loggers: logs);
        emulator.EnqueueReply(new EmulatorReply(200, """{"data":{"id":"%ID%","status":"completed","outputs":[{"uri":"%OUTPUT%"},{"thumb":"x"}]}}"""), FaultTarget.Poll);
        var result = await client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana });

        var image = Assert.Single(result.Images);
        Assert.Equal((1024, 1024), PngWriter.ReadSize(await image.GetBytesAsync()));
        var warning = Assert.Single(logs.Entries, e => e.Message.Contains("does not read", StringComparison.Ordinal));
        Assert.Contains("1 output(s) in a shape the SDK does not read (an object with the property \"thumb\") besides the 1 it read", warning.Message, StringComparison.Ordinal);
    }
}
