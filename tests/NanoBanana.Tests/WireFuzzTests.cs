using System.Text;
using System.Text.Json.Nodes;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

/// <summary>
/// Every field of an answer replaced by a value of every other JSON type: the parser reads what it can and fails only
/// with its own typed exception. On a submit's answer, a readable id survives a wrong type anywhere else, because an
/// accepted job whose id is lost can only be reported as an unknown outcome.
/// </summary>
public class WireFuzzTests
{
    private const string Valid = """
        {"code":200,"message":"success","data":{"id":"abc123","model":"google/gemini-3.1-flash-image-preview","outputs":[],
        "urls":{"get":"https://api.example/api/v3/predictions/abc123/result"},"status":"created","error":null,"executionTime":0,
        "timings":{"inference":0},"has_nsfw_contents":[],"created_at":"2025-12-23 16:10:16","polling_url":"/x","unsigned_urls":[]}}
        """;

    private static readonly string[] Hostile =
    [
        "123", "-1", "1e308", "\"text\"", "\"\"", "true", "false", "null", "{}", "[]", "[1,{\"a\":2},null,\"s\"]",
        "{\"x\":[1,2,{\"y\":null}]}", "[[[[[[[[[[1]]]]]]]]]]", "\"\\u0000\"", "9223372036854775808",
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var field in JsonNode.Parse(Valid)!["data"]!.AsObject().Select(p => p.Key))
        {
            foreach (var value in Hostile)
            {
                data.Add(field, value);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_field_of_any_type_fails_only_typed_and_a_submit_keeps_its_id(string field, string value)
    {
        var root = JsonNode.Parse(Valid)!;
        root["data"]![field] = JsonNode.Parse(value);
        var body = Encoding.UTF8.GetBytes(root.ToJsonString());
        foreach (var isSubmit in new[] { true, false })
        {
            Prediction? parsed = null;
            try
            {
                parsed = WireParser.ParsePrediction(body, isSubmit: isSubmit, knownId: isSubmit ? null : "abc123");
            }
            catch (MalformedResponseException)
            {
            }

            if (isSubmit && field is not "id")
            {
                Assert.True(parsed is not null, $"a submit answer with data.{field} = {value} lost its id");
                Assert.Equal("abc123", parsed!.Id);
            }
        }
    }

    public static TheoryData<string> Values() => [.. Hostile];

    // Error bodies: the documented shapes with every field of any type (and the body itself any value) still give a
    // typed error with the status, never an exception of the parser's.
    [Theory]
    [MemberData(nameof(Values))]
    public void An_error_body_with_fields_of_any_type_is_a_typed_error(string value)
    {
        string[] bodies =
        [
            value,
            $$"""{"error":{{value}}}""",
            $$$"""{"error":{"message":{{{value}}},"code":{{{value}}},"type":{{{value}}}}}""",
            $$"""{"code":{{value}},"message":{{value}},"data":{{value}}}""",
            $$$"""{"code":404,"message":"gone","data":{"id":{{{value}}}}}""",
            $$"""{"detail":{{value}},"msg":{{value}}}""",
        ];
        foreach (var body in bodies)
        {
            var ex = WireParser.ApiError(System.Net.HttpStatusCode.BadGateway, "Bad Gateway", Encoding.UTF8.GetBytes(body), false, null, SecretRedactor.None, null, "Poll");
            Assert.Equal(System.Net.HttpStatusCode.BadGateway, ex.StatusCode);
            Assert.StartsWith("Poll failed: HTTP 502", ex.Message, StringComparison.Ordinal);
        }
    }
}
