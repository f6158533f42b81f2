using System.Net;
using System.Text;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

public class WireParserTests
{
    private static Prediction Parse(string json) => WireParser.ParsePrediction(Encoding.UTF8.GetBytes(json));

    private const string Documented = """
        {"code":200,"message":"success","data":{
          "id":"2b9a360d9","model":"google/gemini-3-pro-image-preview",
          "outputs":[],
          "urls":{"get":"https://gptproto.com/api/v3/predictions/2b9a360d9/result"},
          "status":"created","error":null,"executionTime":0,"timings":{"inference":0},
          "has_nsfw_contents":[],"created_at":"2025-12-23 16:10:16"}}
        """;

    [Theory]
    [InlineData("""{"code":200,"message":"success","data":{"id":"2b9a360d9","model":"goo""", "2b9a360d9")] // cut after the id
    [InlineData("""{"code":200,"data":{"id":"2b9a360d9","status":""", "2b9a360d9")] // not JSON from there on
    [InlineData("""{"code":200,"data":{"id":12345,"status":""", "12345")] // a numeric id
    [InlineData("""{"code":200,"data":{"id":"a\u0062c","status":""", "abc")] // escaped characters read as JSON reads them
    [InlineData("""{"id":"bare-1","status":"created","outp""", "bare-1")] // a bare prediction (some relays)
    [InlineData("""{"code":200,"data":{"urls":{"id":"inner"},"id":"outer","st""", "outer")] // only data's own id
    [InlineData("""{"code":200,"data":{"id":"2b9a3""", null)] // the id itself cut: not complete, not used
    [InlineData("""{"code":200,"data":{"id":123""", null)] // a number that may go on
    [InlineData("""{"code":500,"message":"internal","data":{"id":"x1","st""", null)] // an error envelope
    [InlineData("""{"code":"oops","data":{"id":"x2","st""", "x2")] // a code that is no number says nothing
    [InlineData("""{"id":"root","data":{"status":"created","pad""", null)] // an envelope whose data has no id (yet)
    [InlineData("""{"meta":{"id":"m"},"data":{"status":"cre""", null)] // an id of something else
    [InlineData("""{"code":200,"data":{"id":"","status":""", null)] // an empty id
    [InlineData("""[{"id":"in-an-array"}""", null)]
    [InlineData("""<html><body>502 Bad Gateway""", null)]
    [InlineData("", null)]
    public void The_id_of_a_submit_answer_that_broke_off_is_read_only_when_it_arrived_whole(string received, string? expected) =>
        Assert.Equal(expected, WireParser.SalvageSubmitId(Encoding.UTF8.GetBytes(received)));

    [Fact]
    public void Parses_the_documented_envelope()
    {
        var p = Parse(Documented);
        Assert.Equal("2b9a360d9", p.Id);
        Assert.Equal("google/gemini-3-pro-image-preview", p.Model);
        Assert.Equal(PredictionStatus.Created, p.Status);
        Assert.False(p.Status.IsTerminal);
        Assert.Empty(p.Outputs);
        Assert.Equal(new Uri("https://gptproto.com/api/v3/predictions/2b9a360d9/result"), p.PollUrl);
        Assert.Null(p.Error);
        Assert.Null(p.ExecutionTime);
        Assert.Empty(p.HasNsfwContents);
        Assert.Equal(new DateTimeOffset(2025, 12, 23, 16, 10, 16, TimeSpan.Zero), p.CreatedAt);
    }

    [Theory]
    [InlineData("null", null, null)]
    [InlineData("\"\"", null, null)]
    [InlineData("\"Task failed\"", "Task failed", null)]
    [InlineData("{\"code\":1200,\"message\":\"flagged\"}", "flagged", 1200)]
    [InlineData("{\"code\":\"1402\",\"message\":\"could not fetch\"}", "could not fetch", 1402)]
    public void Error_field_in_every_shape(string error, string? message, int? code)
    {
        var p = Parse($$$"""{"code":200,"data":{"id":"x","status":"failed","error":{{{error}}}}}""");
        Assert.Equal(message, p.Error);
        Assert.Equal(code, p.ErrorCode);
        Assert.True(p.Status.IsTerminal);
    }

    [Fact]
    public void Task_code_in_data_code_is_read()
    {
        var p = Parse("""{"code":200,"data":{"id":"x","status":"failed","error":"moderation","code":1200}}""");
        Assert.Equal(1200, p.ErrorCode);
        Assert.True(p.IsCallerError);
    }

    [Theory]
    [InlineData("2025-11-07T02:35:15.34950574Z", 2025, 11, 7, 2, 35, 15)]
    [InlineData("2025-12-23 16:10:16", 2025, 12, 23, 16, 10, 16)]
    [InlineData("2025-11-07T02:35:15Z", 2025, 11, 7, 2, 35, 15)]
    public void Both_timestamp_formats(string text, int y, int mo, int d, int h, int mi, int s)
    {
        var p = Parse($$$"""{"data":{"id":"x","status":"processing","created_at":"{{{text}}}"}}""");
        var at = p.CreatedAt!.Value;
        Assert.Equal((y, mo, d, h, mi, s), (at.Year, at.Month, at.Day, at.Hour, at.Minute, at.Second));
        Assert.Equal(TimeSpan.Zero, at.Offset);
    }

    [Theory]
    [InlineData("""{"get":"https://h.example/api/v3/predictions/x/result"}""")]
    [InlineData("""[{"get":"https://h.example/api/v3/predictions/x/result"}]""")]
    [InlineData("""[{"rel":"get","href":"https://h.example/api/v3/predictions/x/result"}]""")]
    public void Urls_as_object_or_array(string urls)
    {
        var p = Parse($$$"""{"data":{"id":"x","status":"processing","urls":{{{urls}}}}}""");
        Assert.Equal("https://h.example/api/v3/predictions/x/result", p.PollUrl!.AbsoluteUri);
    }

    [Theory]
    [InlineData("null", new bool[0])]
    [InlineData("[]", new bool[0])]
    [InlineData("[true,false]", new[] { true, false })]
    [InlineData("[null,true]", new[] { false, true })]
    public void Nsfw_flags_null_empty_or_listed(string flags, bool[] expected)
    {
        var p = Parse($$$"""{"data":{"id":"x","status":"completed","outputs":["https://cdn/a.png","https://cdn/b.png"],"has_nsfw_contents":{{{flags}}}}}""");
        Assert.Equal(expected, p.HasNsfwContents);
        Assert.Equal(2, p.Outputs.Count);
    }

    [Theory]
    [InlineData("1e300")]
    [InlineData("\"Infinity\"")]
    [InlineData("\"1e400\"")]
    [InlineData("-5")]
    [InlineData("\"NaN\"")]
    [InlineData("9.3e15")]
    public void An_execution_time_no_clock_can_hold_is_read_as_none(string value)
    {
        var p = Parse("""{"code":200,"data":{"id":"x","status":"completed","outputs":[],"executionTime":""" + value + ""","timings":{"inference":""" + value + "}}}");
        Assert.Null(p.ExecutionTime);
        Assert.Null(p.InferenceTime);
    }

    [Fact]
    public void Unknown_status_is_kept_and_unknown_fields_ignored()
    {
        var p = Parse("""{"code":200,"data":{"id":"x","status":"Queued","futureField":{"a":[1,2]},"executionTime":"1234.5","timings":{"inference":"1000"}}}""");
        Assert.Equal("queued", p.Status.Value);
        Assert.False(p.Status.IsTerminal);
        Assert.Equal(TimeSpan.FromMilliseconds(1234.5), p.ExecutionTime);
        Assert.Equal(TimeSpan.FromSeconds(1), p.InferenceTime);
    }

    [Theory]
    [InlineData("cancelled")]
    [InlineData("timeout")]
    [InlineData("completed")]
    [InlineData("failed")]
    public void Terminal_statuses(string status) => Assert.True(Parse($$$"""{"data":{"id":"x","status":"{{{status}}}"}}""").Status.IsTerminal);

    [Fact]
    public void Bare_prediction_without_envelope_is_accepted()
    {
        var p = Parse("""{"id":"abc","status":"completed","outputs":["https://cdn/x.png"]}""");
        Assert.Equal("abc", p.Id);
        Assert.True(p.Status.IsCompleted);
    }

    [Theory]
    [InlineData("""{"code":200,"data":{"id":"x","status":"processing","error":"Sync mode timed out"}}""")]
    [InlineData("""{"code":200,"data":{"id":"x","status":"processing","error":"","code":5004}}""")]
    public void Sync_timeout_variants_are_recognised(string json) => Assert.True(Parse(json).IsSyncTimeout);

    [Theory]
    [InlineData("<html>502</html>")]
    [InlineData("{\"code\":200,\"data\":{\"id\":\"x\",\"status\":")]
    [InlineData("{\"code\":200,\"data\":null}")]
    [InlineData("")]
    public void Malformed_bodies_raise_a_typed_exception_with_an_excerpt(string body)
    {
        var ex = Assert.Throws<MalformedResponseException>(() => Parse(body));
        Assert.Equal("malformed_response", ex.ErrorCode);
        Assert.NotNull(ex.RawBodyExcerpt);
    }

    [Theory]
    [InlineData(401, """{"error":{"message":"Invalid signature","type":"401"}}""", "401", "Invalid signature")]
    [InlineData(429, """{"error":{"message":"Slow down","code":"rate_limit_exceeded"}}""", "rate_limit_exceeded", "Slow down")]
    [InlineData(403, """{"error":"insufficient balance"}""", null, "insufficient balance")]
    [InlineData(400, """{"code":400,"message":"prompt is required","data":null}""", "400", "prompt is required")]
    public void Error_bodies_in_every_documented_shape(int status, string body, string? code, string message)
    {
        var ex = WireParser.ApiError((HttpStatusCode)status, "Reason", Encoding.UTF8.GetBytes(body), false, null, new SecretRedactor(Emu.Key), null, "Submit");
        Assert.Equal((HttpStatusCode)status, ex.StatusCode);
        Assert.Equal(code, ex.ErrorCode);
        Assert.Equal(message, ex.ProviderMessage);
        Assert.Contains(message, ex.Message);
        Assert.Contains($"HTTP {status}", ex.Message);
    }

    [Fact]
    public void Error_excerpt_is_bounded_and_never_contains_the_key()
    {
        var body = "<html>" + new string('x', 5000) + Emu.Key + "</html>";
        var ex = WireParser.ApiError(HttpStatusCode.BadGateway, null, Encoding.UTF8.GetBytes(body), false, null, new SecretRedactor(Emu.Key), "pid", "Poll");
        Assert.True(ex.RawBodyExcerpt!.Length <= WireParser.MaxExcerptChars + 1);
        Assert.Equal("pid", ex.PredictionId);

        var echoed = WireParser.ApiError(HttpStatusCode.Unauthorized, null, Encoding.UTF8.GetBytes($$$"""{"error":"bad key {{{Emu.Key}}}"}"""), false, null, new SecretRedactor(Emu.Key), null, "Submit");
        Assert.DoesNotContain(Emu.Key, echoed.Message);
        Assert.DoesNotContain(Emu.Key, echoed.RawBodyExcerpt);
        Assert.DoesNotContain(Emu.Key, echoed.ToString());
    }

    [Fact]
    public void Prediction_id_is_taken_from_an_error_body_when_present()
    {
        var ex = WireParser.ApiError(HttpStatusCode.GatewayTimeout, null, Encoding.UTF8.GetBytes("""{"code":504,"message":"Gateway Timeout","data":{"id":"abc"}}"""), false, null, SecretRedactor.None, null, "Submit");
        Assert.Equal("abc", ex.PredictionId);
    }
}
