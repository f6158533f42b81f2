using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace NanoBanana.Protocol;

/// <summary>Lenient reading of the /api/v3 envelopes and error bodies.</summary>
internal static class WireParser
{
    internal const int MaxExcerptChars = 512;

    /// <summary>Parses a submit or poll response body (envelope or bare prediction).</summary>
    /// <exception cref="MalformedResponseException">The body is not JSON or has no prediction in it.</exception>
    public static Prediction ParsePrediction(ReadOnlySpan<byte> utf8Body, HttpStatusCode status = HttpStatusCode.OK, SecretRedactor? redactor = null)
    {
        redactor ??= SecretRedactor.None;
        EnvelopeDto? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(utf8Body, NanoBananaJsonContext.Default.EnvelopeDto);
        }
        catch (JsonException ex)
        {
            throw Malformed("The response is not valid JSON.", utf8Body, status, ex, redactor);
        }

        if (envelope is null)
        {
            throw Malformed("The response body is empty.", utf8Body, status, null, redactor);
        }

        var dto = envelope.Data ?? (envelope.Status is not null || envelope.Id.ValueKind is JsonValueKind.String ? envelope : null);
        var id = dto is null ? null : ReadString(dto.Id);
        if (dto is null || string.IsNullOrEmpty(id))
        {
            throw Malformed("The response has no prediction (no data.id).", utf8Body, status, null, redactor);
        }

        return ToPrediction(dto, id, redactor);
    }

    private static Prediction ToPrediction(PredictionDto dto, string id, SecretRedactor redactor)
    {
        var outputs = dto.Outputs is { Count: > 0 } o ? o.Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).ToArray() : [];
        var (error, errorCode) = ReadError(dto.Error);
        if (errorCode is null && TryReadInt(dto.Code, out var dataCode) && dataCode != 200 && dataCode != 0)
        {
            errorCode = dataCode;
        }

        return new Prediction
        {
            Id = id,
            Model = redactor.Redact(dto.Model),
            Status = new PredictionStatus(string.IsNullOrEmpty(dto.Status) ? "unknown" : dto.Status.Trim().ToLowerInvariant()),
            Outputs = outputs,
            PollUrl = ReadPollUrl(dto.Urls),
            Error = redactor.Redact(error),
            ErrorCode = errorCode,
            ExecutionTime = TryReadDouble(dto.ExecutionTime, out var ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms) : null,
            InferenceTime = dto.Timings.ValueKind == JsonValueKind.Object && dto.Timings.TryGetProperty("inference", out var inf) && TryReadDouble(inf, out var ims) && ims > 0 ? TimeSpan.FromMilliseconds(ims) : null,
            HasNsfwContents = dto.HasNsfwContents is { Count: > 0 } n ? n.Select(b => b ?? false).ToArray() : [],
            CreatedAt = ReadTimestamp(dto.CreatedAt),
        };
    }

    private static (string? Message, int? Code) ReadError(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                var s = e.GetString();
                return (string.IsNullOrWhiteSpace(s) ? null : s, null);
            case JsonValueKind.Object:
                string? message = null;
                int? code = null;
                if (e.TryGetProperty("message", out var m))
                {
                    message = ReadString(m);
                }

                if ((e.TryGetProperty("code", out var c) || e.TryGetProperty("type", out c)) && TryReadInt(c, out var ci))
                {
                    code = ci;
                }

                return (string.IsNullOrWhiteSpace(message) ? null : message, code);
            default:
                return (null, null);
        }
    }

    private static Uri? ReadPollUrl(JsonElement urls)
    {
        string? get = null;
        if (urls.ValueKind == JsonValueKind.Object && urls.TryGetProperty("get", out var g))
        {
            get = ReadString(g);
        }
        else if (urls.ValueKind == JsonValueKind.Array)
        {
            // Some relays send [{"get":"..."}] or [{"rel":"get","href":"..."}].
            foreach (var item in urls.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (item.TryGetProperty("get", out var ig))
                {
                    get = ReadString(ig);
                }
                else if (item.TryGetProperty("href", out var href) && (!item.TryGetProperty("rel", out var rel) || ReadString(rel) is "get" or null))
                {
                    get = ReadString(href);
                }

                if (get is not null)
                {
                    break;
                }
            }
        }

        return Uri.TryCreate(get, UriKind.Absolute, out var uri) ? uri : null;
    }

    private static DateTimeOffset? ReadTimestamp(JsonElement e)
    {
        var s = ReadString(e);
        if (string.IsNullOrWhiteSpace(s))
        {
            return null;
        }

        if (DateTimeOffset.TryParseExact(s, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var plain))
        {
            return plain;
        }

        // ISO-8601 with up to 9 fractional digits (DateTimeOffset.Parse stops at 7).
        var t = s.IndexOf('T', StringComparison.Ordinal);
        var dot = s.IndexOf('.', Math.Max(t, 0));
        if (t > 0 && dot > t)
        {
            var end = dot + 1;
            while (end < s.Length && char.IsAsciiDigit(s[end]))
            {
                end++;
            }

            if (end - dot - 1 > 7)
            {
                s = string.Concat(s.AsSpan(0, dot + 8), s.AsSpan(end));
            }
        }

        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var iso) ? iso : null;
    }

    /// <summary>Reads a secret from <c>{"data":{"secret":"whsec_…"}}</c>, <c>{"secret":"…"}</c> or <c>{"data":"…"}</c>.</summary>
    internal static string? ReadSecret(ReadOnlySpan<byte> body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var holder = root.TryGetProperty("data", out var data) ? data : root;
            return holder.ValueKind == JsonValueKind.String ? holder.GetString()
                : holder.ValueKind == JsonValueKind.Object && holder.TryGetProperty("secret", out var secret) ? ReadString(secret) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string? ReadString(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText(),
        _ => null,
    };

    private static bool TryReadInt(JsonElement e, out int value)
    {
        value = 0;
        return e.ValueKind switch
        {
            JsonValueKind.Number => e.TryGetInt32(out value),
            JsonValueKind.String => int.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
    }

    private static bool TryReadDouble(JsonElement e, out double value)
    {
        value = 0;
        return e.ValueKind switch
        {
            JsonValueKind.Number => e.TryGetDouble(out value),
            JsonValueKind.String => double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
    }

    /// <summary>Builds the exception for an HTTP error response from any of the documented error body shapes.</summary>
    public static NanoBananaApiException ApiError(HttpStatusCode status, string? reasonPhrase, ReadOnlySpan<byte> body, bool bodyWasCut, TimeSpan? retryAfter, SecretRedactor redactor, string? predictionId, string operation)
    {
        string? code = null;
        string? message = null;
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var err))
                {
                    if (err.ValueKind == JsonValueKind.String)
                    {
                        message = err.GetString();
                    }
                    else if (err.ValueKind == JsonValueKind.Object)
                    {
                        message = err.TryGetProperty("message", out var m) ? ReadString(m) : null;
                        code = err.TryGetProperty("code", out var c) ? ReadString(c) : err.TryGetProperty("type", out var ty) ? ReadString(ty) : null;
                    }
                }

                // The WaveSpeed-style envelope {"code":400,"message":"...","data":null}.
                if (message is null && root.TryGetProperty("message", out var msg))
                {
                    message = ReadString(msg);
                }

                if (code is null && root.TryGetProperty("code", out var rc))
                {
                    code = ReadString(rc);
                }

                if (predictionId is null && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("id", out var idEl))
                {
                    predictionId = ReadString(idEl);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (an HTML error page from a gateway): the excerpt says what came back.
        }

        var excerpt = Excerpt(body, redactor, bodyWasCut);
        message = redactor.Redact(message);
        code = redactor.Redact(code);
        predictionId = redactor.Redact(predictionId);
        var text = new StringBuilder()
            .Append(string.Create(CultureInfo.InvariantCulture, $"{operation} failed: HTTP {(int)status} {reasonPhrase}").TrimEnd())
            .Append(code is null ? "" : $" [{code}]")
            .Append(message is null ? "" : $": {message}")
            .Append(predictionId is null ? "" : $" (prediction {predictionId})")
            .Append(HintFor(status))
            .ToString();

        // The reason phrase comes from the service too: the whole text passes the redactor once more.
        return new NanoBananaApiException(redactor.Redact(text)!)
        {
            StatusCode = status,
            ErrorCode = code,
            ProviderMessage = message,
            RawBodyExcerpt = excerpt,
            RetryAfter = retryAfter,
            PredictionId = predictionId,
        };
    }

    private static string HintFor(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => ". Check the API key and the auth scheme (raw key or Bearer).",
        HttpStatusCode.Forbidden => ". The key is not allowed or the account balance is insufficient.",
        HttpStatusCode.TooManyRequests => ". Rate limited.",
        _ => ".",
    };

    // Redaction happens on a window wider than the excerpt (a key that straddles the excerpt's end is still whole
    // there), and only then is the text cut.
    internal static string Excerpt(ReadOnlySpan<byte> body, SecretRedactor redactor, bool bodyWasCut = false)
    {
        var window = (MaxExcerptChars * 4) + 1024;
        var max = Math.Min(body.Length, window);
        var text = Encoding.UTF8.GetString(body[..max]);
        return redactor.Excerpt(text, MaxExcerptChars, bodyWasCut || body.Length > max);
    }

    internal static MalformedResponseException Malformed(string what, ReadOnlySpan<byte> body, HttpStatusCode status, Exception? inner, SecretRedactor? redactor = null) =>
        new($"Malformed response from the service: {what}", inner)
        {
            StatusCode = status,
            RawBodyExcerpt = Excerpt(body, redactor ?? SecretRedactor.None),
            ErrorCode = NanoBananaErrorCodes.MalformedResponse,
        };
}

/// <summary>The service answered 2xx with a body the SDK could not read. Polls retry these; a submit never does.</summary>
public sealed class MalformedResponseException : NanoBananaApiException
{
    /// <summary>Creates the exception.</summary>
    public MalformedResponseException() { }

    /// <summary>Creates the exception with a message.</summary>
    public MalformedResponseException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public MalformedResponseException(string message, Exception? innerException) : base(message, innerException) { }
}
