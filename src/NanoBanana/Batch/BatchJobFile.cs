using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using NanoBanana.Catalog;

namespace NanoBanana.Batch;

/// <summary>
/// Reads jobs from a JSON-lines file, one job per line:
/// <c>{"key": "sku-1", "prompt": "…", "size": "2K", "ratio": "3:4", "typography": true, "complex": false,
/// "grounding": false, "stylized": false, "priority": "Cost", "maxCost": 0.12, "tier": "NanoBananaPro",
/// "images": ["https://…"], "faces": ["face.png"], "objects": ["https://…"]}</c>. Only <c>prompt</c> is required; the
/// key defaults to <c>line-N</c>. Images are URLs or files (relative to the job file's folder). Blank lines are skipped;
/// a line that cannot be read is reported with its number and the property at fault, and does not stop the others.
/// </summary>
public static class BatchJobFile
{
    /// <summary>Reads the file line by line as the batch asks for jobs.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static async IAsyncEnumerable<BatchJobLine> ReadAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No jobs file at {path}.", path);
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        using var reader = new StreamReader(path);
        var number = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            number++;
            if (!string.IsNullOrWhiteSpace(text))
            {
                yield return Parse(number, text, folder);
            }
        }
    }

    /// <summary>Reads one line.</summary>
    /// <param name="line">The line number, for the key's default and the error.</param>
    /// <param name="text">The line.</param>
    /// <param name="folder">The folder local image paths are relative to.</param>
    public static BatchJobLine Parse(int line, string text, string folder)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            using var doc = JsonDocument.Parse(text);
            var e = doc.RootElement;
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("a job is a JSON object");
            }

            var key = Text(e, "key") ?? $"line-{line.ToString(CultureInfo.InvariantCulture)}";
            var images = Images(e, "images", ReferenceKind.Other, folder).Concat(Images(e, "faces", ReferenceKind.Face, folder)).Concat(Images(e, "objects", ReferenceKind.Object, folder)).ToArray();
            var job = new ImageJob(Text(e, "prompt") ?? throw new FormatException("the job has no \"prompt\""))
            {
                Size = Text(e, "size") is { } size ? ImageSize.Parse(size) : ImageSize.OneK,
                AspectRatio = Text(e, "ratio") is { } ratio ? AspectRatio.Parse(ratio) : AspectRatio.Square,
                TypographyCritical = Flag(e, "typography"),
                ComplexComposition = Flag(e, "complex"),
                ImageSearchGrounding = Flag(e, "grounding"),
                Stylized = Flag(e, "stylized"),
                Priority = Text(e, "priority") is { } priority ? ParseEnum<RoutingPriority>(priority, "priority") : default,
                MaxCostUsd = Dollars(e, "maxCost"),
                PinnedTier = Text(e, "tier") is { } tier ? ParseEnum<ImageTier>(tier, "tier") : null,
                ReferenceImages = images,
            };
            return new BatchJobLine(line, new BatchJob(key, job), null);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or InvalidOperationException or IOException)
        {
            var why = ex switch
            {
                JsonException => "not valid JSON (one job object per line)",
                ArgumentException { ParamName: { } name } => ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal),
                _ => ex.Message,
            };
            return new BatchJobLine(line, null, $"line {line.ToString(CultureInfo.InvariantCulture)}: {why}");
        }
    }

    // Each reader names the property and what it must be when the line holds something else.
    private static string? Text(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : throw new FormatException($"\"{name}\" must be a string (got {Kind(v)})");

    private static bool Flag(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is not JsonValueKind.Null && (v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : throw new FormatException($"\"{name}\" must be true or false (got {Kind(v)})"));

    private static decimal? Dollars(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Number && v.TryGetDecimal(out var dollars) ? dollars
        : throw new FormatException($"\"{name}\" must be a number of US dollars, such as 0.12 (got {(v.ValueKind == JsonValueKind.Number ? "a number out of range" : Kind(v))})");

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static T ParseEnum<T>(string text, string name)
        where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new FormatException($"\"{name}\": '{text}' is not one of {string.Join(", ", Enum.GetNames<T>())}");

    private static IEnumerable<ReferenceImage> Images(JsonElement e, string name, ReferenceKind kind, string folder)
    {
        if (!e.TryGetProperty(name, out var list))
        {
            return [];
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"\"{name}\" is a list of image URLs or files, such as [\"https://example.com/a.png\"]");
        }

        return [.. list.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } value
            ? ReferenceImage.FromUrlOrFile(value, kind, relativeTo: folder)
            : throw new FormatException($"\"{name}\" has an entry that is not an image URL or file (got {(item.ValueKind == JsonValueKind.String ? "an empty string" : Kind(item))})"))];
    }
}
