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
    /// <param name="utf8Body">The body.</param>
    /// <param name="status">The HTTP status it came with.</param>
    /// <param name="redactor">Removes the API key from every text taken from the body.</param>
    /// <param name="knownId">
    /// The id the caller already knows (a poll of a known prediction). Providers' poll bodies often carry no id: the
    /// known one is used then, so a completed image or a failure text is not lost.
    /// </param>
    /// <param name="isSubmit">
    /// A submit answer: an id without a status means "accepted" (the first poll tells the status). A poll answer
    /// without a status is malformed, never "still running".
    /// </param>
    /// <param name="operation">What the request was, for the text of an error carried inside a 2xx envelope.</param>
    /// <param name="baseUrl">The API base, against which a relative <c>polling_url</c> is resolved.</param>
    /// <param name="statuses">The user's other words for statuses (<see cref="ProtocolOptions.StatusAliases"/>); null for the SDK's only.</param>
    /// <exception cref="MalformedResponseException">The body is not JSON, or has neither a usable id nor a status.</exception>
    /// <exception cref="NanoBananaApiException">A 2xx envelope that carries an error (<c>{"code":400,"message":…,"data":null}</c>).</exception>
    public static Prediction ParsePrediction(ReadOnlySpan<byte> utf8Body, HttpStatusCode status = HttpStatusCode.OK, SecretRedactor? redactor = null, string? knownId = null, bool isSubmit = false, string operation = "The request", Uri? baseUrl = null, StatusVocabulary? statuses = null)
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

        var dto = envelope.Data ?? (LooksLikePrediction(envelope) ? envelope : null);
        var bodyId = dto is null ? null : ReadString(dto.Id);
        // A status is one short word: shown as values are (one line, bounded), since it reaches progress reports,
        // exceptions and the output of code that prints them, where a line break or 5,000 characters would be the
        // service's to place.
        var statusText = dto is null ? null : Diagnostics.SafeText.Value(ReadStatus(dto.Status));
        if (string.IsNullOrEmpty(statusText))
        {
            // WaveSpeed-style envelopes can carry an error with HTTP 200: {"code":404,"message":"…","data":null}.
            if (TryReadInt(envelope.Code, out var envelopeCode) && envelopeCode is >= 400 and <= 599)
            {
                throw ApiError((HttpStatusCode)envelopeCode, null, utf8Body, false, null, redactor, knownId, operation);
            }

            if (!(isSubmit && !string.IsNullOrEmpty(bodyId)))
            {
                throw Malformed(
                    string.IsNullOrEmpty(bodyId) ? "The response has no prediction in it (neither data.id nor data.status)." : "The response has no data.status.",
                    utf8Body,
                    status,
                    null,
                    redactor);
            }

            // A submit answer with an id but no status: the job was accepted; polling tells the rest.
            statusText = PredictionStatus.Created.Value;
        }

        var id = string.IsNullOrEmpty(bodyId) ? knownId : bodyId;
        var parsedStatus = new PredictionStatus((statuses ?? StatusVocabulary.Default).Read(statusText.ToLowerInvariant()));
        if (string.IsNullOrEmpty(id))
        {
            // Without an id nothing can be polled; only a finished answer (a sync-mode result) is still usable.
            if (!parsedStatus.IsTerminal)
            {
                throw Malformed($"The response has no data.id (status '{redactor.Excerpt(statusText, 40, false)}'), so the prediction cannot be followed.", utf8Body, status, null, redactor);
            }

            id = "";
        }

        return ToPrediction(dto!, id, parsedStatus, redactor, baseUrl);
    }

    private static bool LooksLikePrediction(PredictionDto dto) =>
        dto.Status.ValueKind == JsonValueKind.String || dto.Id.ValueKind is JsonValueKind.String or JsonValueKind.Number || dto.Outputs.ValueKind == JsonValueKind.Array || dto.UnsignedUrls.ValueKind == JsonValueKind.Array;

    private static Prediction ToPrediction(PredictionDto dto, string id, PredictionStatus status, SecretRedactor redactor, Uri? baseUrl)
    {
        var listed = ReadOutputs(dto.Outputs);
        var (outputs, unread) = listed.Read.Length > 0 || listed.Unread.Count > 0 ? listed : ReadOutputs(dto.UnsignedUrls);
        var (error, errorCode) = ReadError(dto.Error);
        if (errorCode is null && TryReadInt(dto.Code, out var dataCode) && dataCode != 200 && dataCode != 0)
        {
            errorCode = dataCode;
        }

        return new Prediction
        {
            Id = id,
            Model = redactor.Clean(dto.Model.ValueKind == JsonValueKind.String ? dto.Model.GetString() : null),
            Status = status,
            Outputs = outputs,
            UnreadOutputs = unread.Count,
            UnreadOutputShape = unread.Count == 0 ? null : redactor.Clean(unread.First),
            PollUrl = ReadPollUrl(dto.Urls) ?? ReadPollingUrl(dto.PollingUrl, baseUrl),
            Error = redactor.Clean(error),
            ErrorCode = errorCode,
            ExecutionTime = Duration(dto.ExecutionTime),
            InferenceTime = dto.Timings.ValueKind == JsonValueKind.Object && dto.Timings.TryGetProperty("inference", out var inf) ? Duration(inf) : null,
            HasNsfwContents = ReadFlags(dto.HasNsfwContents),
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

    // GPT Proto's unified API sends polling_url relative ("/api/v3/tasks/result/…"): resolved against the API base. The
    // client still follows it only on the API origin.
    private static Uri? ReadPollingUrl(JsonElement url, Uri? baseUrl)
    {
        if (url.ValueKind != JsonValueKind.String || url.GetString() is not { Length: > 0 } text)
        {
            return null;
        }

        if (text.StartsWith('/') && baseUrl is not null && Uri.TryCreate(baseUrl, text, out var relative))
        {
            return relative;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;
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

    // The status text, trimmed; null when absent or not a string.
    private static string? ReadStatus(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()?.Trim() : null;

    // Outputs: an array of URL or base64 strings; a lone string is one output. Items that are objects count when they carry
    // the output under a name relays use: url, uri, href, image_url (a string, or an object with url), b64_json or
    // base64. Other items (an object without those names, a number) are counted and the first described, not skipped
    // unseen: a completed job whose outputs were all unread says so instead of "completed without outputs". Null and
    // empty items are nothing.
    private static (string[] Read, (int Count, string? First) Unread) ReadOutputs(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return (e.GetString() is { Length: > 0 } one ? [one] : [], default);
            case JsonValueKind.Object:
                return ReadOutputItem(e) is { } single ? ([single], default)
                    : e.EnumerateObject().Any() ? ([], (1, Describe(e))) : ([], default); // "outputs": {} is none
            case JsonValueKind.Array:
                var list = new List<string>();
                var unread = 0;
                string? shape = null;
                foreach (var item in e.EnumerateArray())
                {
                    if (ReadOutputItem(item) is { } text)
                    {
                        list.Add(text);
                    }
                    else if (item.ValueKind is not (JsonValueKind.Null or JsonValueKind.String))
                    {
                        unread++;
                        shape ??= Describe(item);
                    }
                }

                return ([.. list], (unread, shape));
            default:
                return ([], default);
        }
    }

    /// <summary>The names under which an output object carries its URL or base64 text, in the order they are tried.</summary>
    internal static readonly System.Collections.Immutable.ImmutableArray<string> OutputNames = ["url", "uri", "href", "image_url", "b64_json", "base64"];

    private static string? ReadOutputItem(JsonElement item)
    {
        if (item.ValueKind == JsonValueKind.String)
        {
            return item.GetString() is { Length: > 0 } text ? text : null;
        }

        if (item.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var name in OutputNames)
        {
            if (item.TryGetProperty(name, out var value))
            {
                // image_url may be an object itself ({"url": …}), as in the unified API's input references.
                var candidate = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("url", out var inner) ? inner : value;
                if (candidate.ValueKind == JsonValueKind.String && candidate.GetString() is { Length: > 0 } output)
                {
                    return output;
                }
            }
        }

        return null;
    }

    // What an unread output was, for the message that says so: its kind, and an object's first few property names
    // (bounded and printable; never a value, which may be megabytes of base64).
    private static string Describe(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return item.ValueKind switch
            {
                JsonValueKind.Array => "an array",
                JsonValueKind.Number => "a number",
                _ => "a boolean",
            };
        }

        var names = item.EnumerateObject().Select(p => p.Name).ToList();
        if (names.Count == 0)
        {
            return "an empty object";
        }

        var shown = names.Take(4).Select(n => Diagnostics.SafeText.Quoted(n.Length > 40 ? n[..40] : n));
        return $"an object with {(names.Count == 1 ? "the property" : "the properties")} {string.Join(", ", shown)}{(names.Count > 4 ? $" and {names.Count - 4} more" : "")}";
    }

    // One flag per output: true, "true" or a non-zero number; anything else is false. Not an array: none.
    private static bool[] ReadFlags(JsonElement e) => e.ValueKind != JsonValueKind.Array
        ? []
        : [.. e.EnumerateArray().Select(b => b.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.String => string.Equals(b.GetString(), "true", StringComparison.OrdinalIgnoreCase),
            JsonValueKind.Number => b.TryGetDouble(out var d) && d != 0,
            _ => false,
        })];

    /// <summary>
    /// The prediction id in what arrived of a submit's 2xx answer that could not be read whole (cut off, past the size
    /// limit, or not valid JSON from some point on): <c>data.id</c> (a bare answer's <c>id</c> when there is no
    /// <c>data</c>) when it arrived complete before the damage, and only when nothing before it marks the answer as an
    /// error (an envelope <c>code</c> outside 2xx). Null when there is none: then the outcome stays unknown.
    /// </summary>
    internal static string? SalvageSubmitId(ReadOnlySpan<byte> received)
    {
        var reader = new Utf8JsonReader(received, isFinalBlock: false, state: default);
        string? bareId = null;
        var sawData = false;
        var rootProperty = RootProperty.Other;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1)
                {
                    rootProperty = reader.ValueTextEquals("data"u8) ? RootProperty.Data
                        : reader.ValueTextEquals("id"u8) ? RootProperty.Id
                        : reader.ValueTextEquals("code"u8) ? RootProperty.Code
                        : RootProperty.Other;
                    if (!reader.Read())
                    {
                        break;
                    }

                    switch (rootProperty)
                    {
                        case RootProperty.Code when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var code) && code is not (0 or (>= 200 and < 300)):
                            return null; // an error envelope: {"code":500,…}
                        case RootProperty.Data when reader.TokenType == JsonTokenType.StartObject:
                            sawData = true;
                            break;
                        case RootProperty.Id:
                            bareId ??= IdToken(ref reader);
                            break;
                    }
                }
                else if (reader.CurrentDepth == 2 && rootProperty == RootProperty.Data && reader.ValueTextEquals("id"u8))
                {
                    return reader.Read() ? IdToken(ref reader) : null;
                }
            }
        }
        catch (JsonException)
        {
            // The damage: what was read before it stands.
        }

        return sawData ? null : bareId;
    }

    private enum RootProperty
    {
        Other,
        Data,
        Id,
        Code,
    }

    private static string? IdToken(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString() is { Length: > 0 } id ? id : null,
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
        _ => null,
    };

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

    // No job runs for longer than a week: a longer duration (or one no TimeSpan can hold: 1e300, "Infinity") is not a
    // time the service measured, and reads as none rather than failing the answer that carried a paid job's id.
    private const double MaxDurationMilliseconds = 7 * 24 * 3600 * 1000.0;

    // A duration in milliseconds (number or numeric string), when it is one: positive, finite and at most a week.
    private static TimeSpan? Duration(JsonElement e) =>
        TryReadDouble(e, out var ms) && ms > 0 && ms <= MaxDurationMilliseconds ? TimeSpan.FromMilliseconds(ms) : null;

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
    public static NanoBananaApiException ApiError(HttpStatusCode status, string? reasonPhrase, ReadOnlySpan<byte> body, bool bodyWasCut, TimeSpan? retryAfter, SecretRedactor redactor, string? predictionId, string operation, string? hint = null)
    {
        string? code = null;
        string? message = null;
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.String)
            {
                message = root.GetString();
            }
            else if (root.ValueKind == JsonValueKind.Object)
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

                // The WaveSpeed-style envelope {"code":400,"message":"...","data":null}; other gateways say "detail" or "msg".
                foreach (var name in MessageFields)
                {
                    if (message is null && root.TryGetProperty(name, out var msg))
                    {
                        message = ReadString(msg);
                    }
                }

                if (code is null && root.TryGetProperty("code", out var rc))
                {
                    code = ReadString(rc);
                }

                if (string.IsNullOrEmpty(predictionId) && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("id", out var idEl))
                {
                    predictionId = ReadString(idEl);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: a plain-text message ("Prediction not found") or a gateway's HTML page (its title).
            message = PlainTextMessage(body, redactor, bodyWasCut);
        }

        var excerpt = Excerpt(body, redactor, bodyWasCut);
        message = string.IsNullOrWhiteSpace(message) ? null : redactor.Clean(message.Trim());
        predictionId = string.IsNullOrEmpty(predictionId) ? null : predictionId;
        code = redactor.Clean(code);
        predictionId = redactor.Redact(predictionId);
        var text = new StringBuilder()
            .Append(string.Create(CultureInfo.InvariantCulture, $"{operation} failed: HTTP {(int)status} {reasonPhrase}").TrimEnd())
            .Append(code is null ? "" : $" [{code}]")
            .Append(message is null ? "" : $": {message}")
            .Append(predictionId is null ? "" : $" (prediction {Diagnostics.SafeText.Value(predictionId)})")
            .Append(hint ?? HintFor(status))
            .ToString();

        // The reason phrase comes from the service too: the whole text passes the redactor once more.
        return new NanoBananaApiException(redactor.Clean(text)!)
        {
            StatusCode = status,
            ErrorCode = code,
            ProviderMessage = message,
            RawBodyExcerpt = excerpt,
            RetryAfter = retryAfter,
            PredictionId = predictionId,
        };
    }

    private static readonly string[] MessageFields = ["message", "detail", "msg"];

    private const int MaxPlainMessageChars = 300;

    // The provider's words from a body that is not JSON: plain text with its whitespace folded, or an HTML page's
    // <title>. Redacted before it is cut, like every excerpt.
    private static string? PlainTextMessage(ReadOnlySpan<byte> body, SecretRedactor redactor, bool bodyWasCut)
    {
        const int Window = 4096;
        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, Window)]).Trim();
        var cut = bodyWasCut || body.Length > Window;
        if (text.Length == 0)
        {
            return null;
        }

        if (text[0] == '<')
        {
            var open = text.IndexOf("<title>", StringComparison.OrdinalIgnoreCase);
            var close = open < 0 ? -1 : text.IndexOf("</title>", open, StringComparison.OrdinalIgnoreCase);
            if (close < 0)
            {
                return null;
            }

            text = text[(open + 7)..close].Trim();
            cut = false;
        }

        var folded = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                if (folded.Length > 0 && folded[^1] != ' ')
                {
                    folded.Append(' ');
                }
            }
            else
            {
                folded.Append(c);
            }
        }

        return folded.Length == 0 ? null : redactor.Excerpt(folded.ToString().TrimEnd(), MaxPlainMessageChars, cut);
    }

    private static string HintFor(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => ". Check the API key and the auth scheme (raw key or Bearer).",
        HttpStatusCode.Forbidden => ". The key is not allowed or the account balance is insufficient.",
        HttpStatusCode.TooManyRequests => ". Rate limited.",
        _ => ".",
    };

    /// <summary>
    /// Reads the URL from an upload answer: <c>{"code":200,"data":{"download_url":"…"}}</c> (WaveSpeedAI), or
    /// <c>download_url</c> / <c>url</c> at the top level. An error code inside a 2xx envelope is that error.
    /// </summary>
    /// <exception cref="MalformedResponseException">Not JSON, or no URL in it.</exception>
    /// <exception cref="NanoBananaApiException">A 2xx envelope that carries an error.</exception>
    public static Uri ParseUploadUrl(ReadOnlySpan<byte> utf8Body, SecretRedactor redactor, string operation)
    {
        ArgumentNullException.ThrowIfNull(redactor);
        string? text = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number && code.TryGetInt32(out var c) && c is >= 400 and <= 599)
                {
                    throw ApiError((HttpStatusCode)c, null, utf8Body, false, null, redactor, null, operation);
                }

                var data = root.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : root;
                text = UrlIn(data) ?? UrlIn(root);
            }
        }
        catch (JsonException ex)
        {
            throw Malformed($"{operation}: the answer is not valid JSON.", utf8Body, HttpStatusCode.OK, ex, redactor);
        }

        return text is not null && Uri.TryCreate(text, UriKind.Absolute, out var url)
            ? url
            : throw Malformed($"{operation}: the answer has no data.download_url.", utf8Body, HttpStatusCode.OK, null, redactor);

        static string? UrlIn(JsonElement e) =>
            e.TryGetProperty("download_url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()
            : e.TryGetProperty("url", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()
            : null;
    }

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
