using System.Text.Json;
using System.Text.Json.Serialization;

namespace NanoBanana.Protocol;

// Wire shapes. Every field of a prediction is a JsonElement read leniently: a wrong type in one field (a relay that
// sends outputs as objects, a model as a number) must not make the whole answer unreadable and lose a paid job's id.
internal class PredictionDto
{
    [JsonPropertyName("id")] public JsonElement Id { get; set; }
    [JsonPropertyName("model")] public JsonElement Model { get; set; }
    [JsonPropertyName("outputs")] public JsonElement Outputs { get; set; }
    [JsonPropertyName("urls")] public JsonElement Urls { get; set; }
    [JsonPropertyName("status")] public JsonElement Status { get; set; }
    [JsonPropertyName("error")] public JsonElement Error { get; set; }
    [JsonPropertyName("code")] public JsonElement Code { get; set; }
    [JsonPropertyName("executionTime")] public JsonElement ExecutionTime { get; set; }
    [JsonPropertyName("timings")] public JsonElement Timings { get; set; }
    [JsonPropertyName("has_nsfw_contents")] public JsonElement HasNsfwContents { get; set; }
    [JsonPropertyName("created_at")] public JsonElement CreatedAt { get; set; }

    // GPT Proto's unified images API: outputs and the poll route under other names.
    [JsonPropertyName("unsigned_urls")] public JsonElement UnsignedUrls { get; set; }
    [JsonPropertyName("polling_url")] public JsonElement PollingUrl { get; set; }
}

// The envelope {"code":200,"message":"success","data":{...}}. It derives from PredictionDto so that a bare
// prediction (webhooks, some relays) parses with the same call.
internal sealed class EnvelopeDto : PredictionDto
{
    [JsonPropertyName("message")] public JsonElement Message { get; set; }
    [JsonPropertyName("data")] public PredictionDto? Data { get; set; }
}

internal sealed class SubmitBodyDto
{
    [JsonPropertyName("prompt")] public required string Prompt { get; set; }
    [JsonPropertyName("images")] public List<string>? Images { get; set; }
    [JsonPropertyName("size")] public string? Size { get; set; }
    [JsonPropertyName("resolution")] public string? Resolution { get; set; }
    [JsonPropertyName("aspect_ratio")] public string? AspectRatio { get; set; }
    [JsonPropertyName("output_format")] public string? OutputFormat { get; set; }
    [JsonPropertyName("enable_sync_mode")] public bool? EnableSyncMode { get; set; }
    [JsonPropertyName("enable_base64_output")] public bool? EnableBase64Output { get; set; }
}

// GPT Proto's unified images API: the model travels in the body; input_references make it an edit.
internal sealed class UnifiedSubmitBodyDto
{
    [JsonPropertyName("model")] public required string Model { get; set; }
    [JsonPropertyName("prompt")] public required string Prompt { get; set; }
    [JsonPropertyName("size")] public string? Size { get; set; }
    [JsonPropertyName("aspect_ratio")] public string? AspectRatio { get; set; }
    [JsonPropertyName("output_format")] public string? OutputFormat { get; set; }
    [JsonPropertyName("input_references")] public List<InputReferenceDto>? InputReferences { get; set; }
}

internal sealed class InputReferenceDto
{
    [JsonPropertyName("type")] public string Type { get; set; } = "image_url";
    [JsonPropertyName("image_url")] public required ImageUrlDto ImageUrl { get; set; }
}

internal sealed class ImageUrlDto
{
    [JsonPropertyName("url")] public required string Url { get; set; }
}

[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(EnvelopeDto))]
[JsonSerializable(typeof(SubmitBodyDto))]
[JsonSerializable(typeof(UnifiedSubmitBodyDto))]
internal sealed partial class NanoBananaJsonContext : JsonSerializerContext;
