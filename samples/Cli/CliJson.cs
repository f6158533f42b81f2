using System.Globalization;
using System.Text;
using System.Text.Json;
using NanoBanana.Catalog;
using NanoBanana.Routing;

namespace NanoBanana.Cli;

// --json: one JSON object (or array) per command on stdout, for scripts; the human text goes nowhere.
internal static class CliJson
{
    private static readonly AsyncLocal<TextWriter?> Writer = new();

    public static bool Enabled => Writer.Value is not null;

    public static void Use(TextWriter? writer) => Writer.Value = writer;

    public static void Models(ModelCatalog catalog) => Emit(w =>
    {
        w.WriteStartArray();
        foreach (var m in catalog.Models)
        {
            w.WriteStartObject();
            w.WriteString("tier", m.Tier.ToString());
            w.WriteString("id", m.Id);
            w.WriteString("displayName", m.DisplayName);
            Strings(w, "aliases", [m.WaveSpeedSlug, .. m.Aliases]);
            w.WriteString("successorId", m.SuccessorId);
            w.WriteString("retirementDate", m.RetirementDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            Strings(w, "sizes", m.Sizes.Select(s => s.ToString()));
            Strings(w, "aspectRatios", m.AspectRatios.Select(r => r.ToString()));
            w.WriteNumber("maxReferenceImages", m.MaxReferenceImages);
            w.WriteNumber("maxObjectReferences", m.MaxObjectReferences);
            w.WriteNumber("maxFaceReferences", m.MaxFaceReferences);
            w.WriteBoolean("imageSearchGrounding", m.SupportsImageSearchGrounding);
            w.WriteStartObject("pricesUsd");
            foreach (var (size, price) in m.PricesUsd.OrderBy(p => p.Key))
            {
                w.WriteNumber(size.ToString(), price);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    public static void Decision(RoutingDecision d) => Emit(w => WriteDecision(w, d));

    public static void Result(ImageResult r, string file) => Emit(w =>
    {
        w.WriteStartObject();
        w.WriteString("predictionId", r.PredictionId);
        w.WriteString("model", r.Model.Id);
        w.WriteString("tier", r.Model.Tier.ToString());
        w.WriteString("file", file);
        w.WriteNumber("seconds", Math.Round(r.Duration.TotalSeconds, 3));
        w.WriteNumber("estimatedCostUsd", r.EstimatedCostUsd);
        w.WriteNumber("polls", r.PollCount);
        w.WriteStartArray("attempts");
        foreach (var a in r.Attempts)
        {
            w.WriteStartObject();
            w.WriteString("model", a.Model.Id);
            w.WriteString("predictionId", a.PredictionId);
            w.WriteString("outcome", a.Outcome.ToString());
            w.WriteString("error", a.Error);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static void Compare(IEnumerable<(ImageTier Tier, ImageResult? Result, string Path, string? Error, TimeSpan Elapsed)> runs) => Emit(w =>
    {
        w.WriteStartArray();
        foreach (var r in runs)
        {
            w.WriteStartObject();
            w.WriteString("tier", r.Tier.ToString());
            w.WriteString("model", r.Result?.Model.Id);
            w.WriteString("predictionId", r.Result?.PredictionId);
            w.WriteNumber("seconds", Math.Round(r.Elapsed.TotalSeconds, 3));
            if (r.Result is not null)
            {
                w.WriteNumber("estimatedCostUsd", r.Result.EstimatedCostUsd);
                w.WriteString("file", r.Path);
            }

            w.WriteString("error", r.Error);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    public static void Error(string message, int exitCode, string? predictionId = null, string? resume = null) => Emit(w =>
    {
        w.WriteStartObject();
        w.WriteString("error", message);
        w.WriteNumber("exitCode", exitCode);
        w.WriteString("predictionId", predictionId);
        w.WriteString("resume", resume);
        w.WriteEndObject();
    });

    private static void WriteDecision(Utf8JsonWriter w, RoutingDecision d)
    {
        w.WriteStartObject();
        w.WriteString("model", d.Model.Id);
        w.WriteString("tier", d.Model.Tier.ToString());
        w.WriteNumber("estimatedCostUsd", d.EstimatedCostUsd);
        Strings(w, "fallbacks", d.Fallbacks.Select(f => f.Id));
        Strings(w, "reasons", d.Reasons);
        w.WriteStartArray("rejected");
        foreach (var r in d.Rejected)
        {
            w.WriteStartObject();
            w.WriteString("model", r.Model.Id);
            w.WriteString("reason", r.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    public static void Batch(IEnumerable<NanoBanana.Batch.BatchItemResult> results, IEnumerable<string> unreadable) => Emit(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("results");
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteString("key", r.Key);
            w.WriteString("outcome", r.Outcome.ToString());
            w.WriteString("predictionId", r.PredictionId);
            w.WriteString("model", r.ModelId);
            w.WriteString("size", r.Size.ToString());
            w.WriteNumber("costUsd", r.CostUsd);
            w.WriteString("file", r.OutputPath);
            w.WriteString("error", r.Error);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        Strings(w, "unreadableLines", unreadable);
        w.WriteStartArray("spend");
        foreach (var line in NanoBanana.Batch.BatchSpendLine.Report(results))
        {
            w.WriteStartObject();
            w.WriteString("model", line.ModelId);
            w.WriteString("size", line.Size.ToString());
            w.WriteNumber("images", line.Images);
            w.WriteNumber("costUsd", line.CostUsd);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void Emit(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            write(w);
        }

        Writer.Value!.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        Writer.Value.Flush();
    }
}
