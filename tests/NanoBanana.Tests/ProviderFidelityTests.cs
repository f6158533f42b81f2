using System.Net;
using System.Text;
using NanoBanana.Emulator;
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
    public async Task Completed_without_outputs_moves_on_only_when_the_caller_opts_in()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.FallbackOnEmptyOutput = true);
        emulator.EnqueueReply(new EmulatorReply(200, """{"data":{"status":"completed","outputs":[]}}"""), FaultTarget.Poll);
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.Equal(2, emulator.AcceptedSubmits);
        Assert.Contains("without outputs", result.Attempts[0].Error, StringComparison.Ordinal);
        Assert.NotNull(result.Attempts[0].PredictionId);
    }
}
