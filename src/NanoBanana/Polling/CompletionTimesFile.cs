using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NanoBanana.Polling;

/// <summary>
/// What a client learned about completion times, as JSON, so that a restarted process polls like a warm one from its
/// first job instead of starting again from the catalog's typical range. The format (<see cref="Format"/>):
/// <code>
/// { "format": "nanobanana.completion-times/1", "service": "https://host", "savedAt": "…",
///   "models": [ { "id": "gemini-2.5-flash-image", "waits": [[3.1, 4.02], [2.5, null], [4.5, 4.5], [3.8, 3.8]],
///                 "reports": { "confirmed": 9, "refuted": false, "fromReports": [[3, 3.1, 4.2]] } } ] }
/// </code>
/// Each wait is what polling saw, in seconds after the job was accepted: completed in (lower, upper], or still running
/// at lower when the wait ended (upper null); equal bounds are an exact time. <c>reports</c> (optional; readers that
/// predate it ignore it) says how far the model's reported <c>executionTime</c> has earned trust, and which exact waits
/// were taken from a report, each as [index into waits, the interval polling saw], so that a refutation after a restart
/// can put the interval back. Reading is bounded and strict: anything else is refused with a message that names the
/// offending entry.
/// </summary>
internal static class CompletionTimesFile
{
    /// <summary>The format this version reads and writes.</summary>
    public const string Format = "nanobanana.completion-times/1";

    /// <summary>The largest document read (bytes).</summary>
    public const int MaxBytes = 8 << 20;

    /// <summary>The most models one document may hold.</summary>
    public const int MaxModels = 32;

    // No plausible wait is longer than a week; bounds beyond it are not completion times.
    private const double MaxSeconds = 7 * 24 * 3600;

    /// <summary>What a document holds once read and checked.</summary>
    internal sealed record Contents(string? Service, DateTimeOffset SavedAt, IReadOnlyList<ModelTimes> Models)
    {
        /// <summary>How many waits the document holds.</summary>
        public int Waits => Models.Sum(m => m.Waits.Length);
    }

    // No count of confirmations above this is plausible (nor needed: a handful earns trust).
    private const int MaxConfirmations = 1_000_000;

    /// <summary>Writes <paramref name="statistics"/> as a document.</summary>
    public static Task WriteAsync(Stream destination, LatencyStatistics statistics, string? service, DateTimeOffset savedAt, CancellationToken cancellationToken)
    {
        var dto = new DocumentDto
        {
            Format = Format,
            Service = service,
            SavedAt = savedAt,
            Models = [.. statistics.Export().Select(m => new ModelDto { Id = m.Id, Waits = [.. m.Waits.Select(ToWire)], Reports = ToWire(m) })],
        };
        return JsonSerializer.SerializeAsync(destination, dto, CompletionTimesJsonContext.Default.DocumentDto, cancellationToken);
    }

    /// <summary>Reads and checks a document.</summary>
    /// <exception cref="InvalidDataException">The document is too large, not this format, or holds an implausible wait; the message says which.</exception>
    public static async Task<Contents> ReadAsync(Stream source, CancellationToken cancellationToken)
    {
        // Bounded before parsing: a hostile or corrupt file cannot make the reader buffer more than MaxBytes.
        byte[] bytes;
        try
        {
            bytes = await Protocol.BoundedBody.ReadAsync(source, MaxBytes, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Protocol.BoundedBody.TooLargeException)
        {
            throw new InvalidDataException($"Completion times: the document is larger than {MaxBytes} bytes.");
        }

        DocumentDto? dto;
        try
        {
            dto = JsonSerializer.Deserialize(bytes, CompletionTimesJsonContext.Default.DocumentDto);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Completion times: not valid JSON ({ex.Message})", ex);
        }

        return Check(dto);
    }

    private static Contents Check(DocumentDto? dto)
    {
        if (dto is null)
        {
            throw new InvalidDataException("Completion times: the document is empty (null).");
        }

        if (!string.Equals(dto.Format, Format, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Completion times: format is '{Shorten(dto.Format)}', expected '{Format}'.");
        }

        var models = dto.Models ?? [];
        if (models.Count > MaxModels)
        {
            throw new InvalidDataException($"Completion times: {models.Count} models, at most {MaxModels} are read.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<ModelTimes>(models.Count);
        for (var i = 0; i < models.Count; i++)
        {
            var model = models[i] ?? throw new InvalidDataException($"Completion times: models[{i}] is null.");
            if (string.IsNullOrWhiteSpace(model.Id) || model.Id.Length > 200)
            {
                throw new InvalidDataException($"Completion times: models[{i}].id must be a model id of 1 to 200 characters.");
            }

            if (!seen.Add(model.Id))
            {
                throw new InvalidDataException($"Completion times: models[{i}].id '{Shorten(model.Id)}' appears twice.");
            }

            var waits = model.Waits ?? [];
            var observations = new CompletionObservation[waits.Count];
            for (var j = 0; j < waits.Count; j++)
            {
                observations[j] = FromWire(waits[j]) ?? throw new InvalidDataException(
                    $"Completion times: models[{i}].waits[{j}] must be [lower, upper] seconds with 0 <= lower <= upper <= {MaxSeconds} and upper > 0, or [lower, null] with lower > 0.");
            }

            result.Add(CheckReports(model.Reports, model.Id, observations, $"models[{i}].reports"));
        }

        return new Contents(dto.Service, dto.SavedAt, result);
    }

    private static ModelTimes CheckReports(ReportsDto? reports, string id, CompletionObservation[] waits, string where)
    {
        if (reports is null)
        {
            return ModelTimes.Plain(id, waits);
        }

        if (reports.Confirmed is < 0 or > MaxConfirmations)
        {
            throw new InvalidDataException($"Completion times: {where}.confirmed must be 0 to {MaxConfirmations}.");
        }

        var entries = reports.FromReports ?? [];
        var fromReports = new List<ReportedWait>(entries.Count);
        for (var k = 0; k < entries.Count; k++)
        {
            // [index of an exact wait, lower, upper]: the interval polling saw, which holds the reported time.
            var e = entries[k];
            if (e is not { Length: 3 } || e[0] is not { } index || index != Math.Floor(index) || index < 0 || index >= waits.Length
                || waits[(int)index] is var wait && wait.Lower != wait.Upper
                || FromWire([e[1], e[2]]) is not { IsCensored: false } interval || !(interval.Lower <= wait.Lower && wait.Upper <= interval.Upper))
            {
                throw new InvalidDataException(
                    $"Completion times: {where}.fromReports[{k}] must be [index of an exact wait, lower, upper] with the interval (lower, upper] holding that wait.");
            }

            fromReports.Add(new ReportedWait((int)index, interval));
        }

        return new ModelTimes(id, waits, fromReports, reports.Confirmed, reports.Refuted);
    }

    private static ReportsDto? ToWire(ModelTimes m) =>
        m.ReportsConfirmed == 0 && !m.ReportsRefuted && m.FromReports.Count == 0
            ? null
            : new ReportsDto
            {
                Confirmed = m.ReportsConfirmed,
                Refuted = m.ReportsRefuted,
                FromReports = [.. m.FromReports.Select(r => (double?[])[r.Index, .. ToWire(r.Interval)])],
            };

    private static double?[] ToWire(CompletionObservation o)
    {
        if (o.IsCensored)
        {
            return [Seconds(o.Lower), null];
        }

        var upper = Seconds(o.Upper);
        return [o.Lower == o.Upper ? upper : Math.Min(Math.Round(o.Lower, 3), upper), upper]; // an exact time stays exact
    }

    // To the millisecond, but never 0: a reader refuses an upper bound of 0 and a censored lower bound of 0, and a job
    // that a submit's answer already reported done can have taken a fraction of a millisecond by the client's clock.
    // Rounding up to 1 ms is monotone, so a reported time stays inside its interval.
    private static double Seconds(double value) => Math.Max(0.001, Math.Round(value, 3));

    private static CompletionObservation? FromWire(double?[]? wait)
    {
        if (wait is not { Length: 2 } || wait[0] is not { } lower || !(lower >= 0 && lower <= MaxSeconds))
        {
            return null;
        }

        if (wait[1] is not { } upper)
        {
            return lower > 0 ? new CompletionObservation(lower, double.PositiveInfinity) : null;
        }

        return upper > 0 && upper >= lower && upper <= MaxSeconds ? new CompletionObservation(lower, upper) : null;
    }

    private static string Shorten(string? value) =>
        value is null ? "(none)" : value.Length <= 60 ? value : value[..60].ToString(CultureInfo.InvariantCulture) + "…";

    internal sealed class DocumentDto
    {
        [JsonPropertyName("format")] public string? Format { get; set; }

        [JsonPropertyName("service")] public string? Service { get; set; }

        [JsonPropertyName("savedAt")] public DateTimeOffset SavedAt { get; set; }

        [JsonPropertyName("models")] public List<ModelDto?>? Models { get; set; }
    }

    internal sealed class ModelDto
    {
        [JsonPropertyName("id")] public string? Id { get; set; }

        [JsonPropertyName("waits")] public List<double?[]?>? Waits { get; set; }

        [JsonPropertyName("reports")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ReportsDto? Reports { get; set; }
    }

    internal sealed class ReportsDto
    {
        [JsonPropertyName("confirmed")] public int Confirmed { get; set; }

        [JsonPropertyName("refuted")] public bool Refuted { get; set; }

        [JsonPropertyName("fromReports")] public List<double?[]?>? FromReports { get; set; }
    }
}

[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CompletionTimesFile.DocumentDto))]
internal sealed partial class CompletionTimesJsonContext : JsonSerializerContext;
