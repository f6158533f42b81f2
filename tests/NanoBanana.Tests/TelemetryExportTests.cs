using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NanoBanana.Soak;

namespace NanoBanana.Tests;

/// <summary>
/// The Telemetry sample, run as a process, exports the SDK's spans and metrics with OTLP/HTTP to a small OTLP
/// receiver on loopback, which decodes the protobuf bodies. Checks the names docs/telemetry.md promises.
/// </summary>
public class TelemetryExportTests
{
    [Fact]
    public async Task The_sample_exports_spans_and_metrics_to_an_otlp_receiver()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var output = new TempFolder("nb-telemetry-");
        using var process = DotnetApp.Start("NanoBanana.Samples.Telemetry.dll", ["--otlp", receiver.Url], output.FullName);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        var text = await stdout;
        Assert.True(process.ExitCode == 0, text + await stderr);
        Assert.Contains("Exported.", text);

        // Spans: each job's SDK spans sit in the trace the sample printed, under nanobanana.generate.
        var spans = receiver.Spans();
        Assert.All(spans, s => Assert.Equal("nanobanana-telemetry-sample", s.Service));
        foreach (var name in new[] { "nanobanana.generate", "nanobanana.route", "nanobanana.submit", "nanobanana.poll", "nanobanana.download" })
        {
            Assert.Contains(spans, s => s.Name == name && s.Scope == "NanoBanana");
        }

        var lines = text.Split('\n').Where(l => l.Contains("prediction ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, lines.Count);
        foreach (var line in lines)
        {
            var id = Word(line, "prediction ");
            var trace = Word(line, "trace ");
            var generate = Assert.Single(spans, s => s.Name == "nanobanana.generate" && s.Attributes.GetValueOrDefault("nanobanana.prediction_id") == id);
            Assert.Equal(trace, generate.TraceId);
            var submit = Assert.Single(spans, s => s.Name == "nanobanana.submit" && s.TraceId == trace);
            Assert.Equal(generate.SpanId, submit.ParentSpanId);
            Assert.Equal(id, submit.Attributes["nanobanana.prediction_id"]);
            Assert.Contains(spans, s => s.Name == "nanobanana.poll" && s.TraceId == trace && s.Attributes.GetValueOrDefault("nanobanana.prediction_id") == id);
        }

        // Metrics, from the NanoBanana meter.
        var metrics = receiver.Metrics();
        foreach (var name in new[] { "nanobanana.jobs.started", "nanobanana.jobs.completed", "nanobanana.polls", "nanobanana.job.duration", "nanobanana.job.estimated_cost" })
        {
            Assert.Contains((name, "NanoBanana"), metrics);
        }
    }

    private static string Word(string line, string after)
    {
        var at = line.IndexOf(after, StringComparison.Ordinal) + after.Length;
        return new string(line[at..].TakeWhile(char.IsLetterOrDigit).ToArray());
    }

    private sealed record Span(string Service, string Scope, string Name, string TraceId, string SpanId, string ParentSpanId, Dictionary<string, string> Attributes);

    /// <summary>An OTLP/HTTP receiver on 127.0.0.1 that keeps the protobuf bodies of /v1/traces and /v1/metrics.</summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<byte[]> _traces = new();
        private readonly ConcurrentQueue<byte[]> _metrics = new();

        private OtlpReceiver(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public static async Task<OtlpReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new OtlpReceiver(app);
            app.MapPost("/v1/traces", ctx => receiver.Keep(ctx, receiver._traces));
            app.MapPost("/v1/metrics", ctx => receiver.Keep(ctx, receiver._metrics));
            await app.StartAsync();
            receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/";
            return receiver;
        }

        private async Task Keep(HttpContext ctx, ConcurrentQueue<byte[]> into)
        {
            Assert.Equal("application/x-protobuf", ctx.Request.ContentType);
            Stream body = ctx.Request.Headers.ContentEncoding == "gzip" ? new GZipStream(ctx.Request.Body, CompressionMode.Decompress) : ctx.Request.Body;
            using var copy = new MemoryStream();
            await body.CopyToAsync(copy);
            into.Enqueue(copy.ToArray());
            ctx.Response.ContentType = "application/x-protobuf";
            ctx.Response.StatusCode = 200; // an empty Export*ServiceResponse
        }

        // ExportTraceServiceRequest: 1 ResourceSpans { 1 Resource { 1 KeyValue }, 2 ScopeSpans { 1 scope { 1 name }, 2 Span } }
        public List<Span> Spans()
        {
            var spans = new List<Span>();
            foreach (var body in _traces)
            {
                foreach (var resourceSpans in Proto.Messages(body, 1))
                {
                    var service = Proto.Messages(resourceSpans, 1).SelectMany(r => Attributes(r, 1)).FirstOrDefault(a => a.Key == "service.name").Value ?? "";
                    foreach (var scopeSpans in Proto.Messages(resourceSpans, 2))
                    {
                        var scope = Proto.Messages(scopeSpans, 1).Select(s => Proto.Text(s, 1)).FirstOrDefault() ?? "";
                        foreach (var span in Proto.Messages(scopeSpans, 2))
                        {
                            spans.Add(new Span(service, scope, Proto.Text(span, 5) ?? "", Proto.Hex(span, 1), Proto.Hex(span, 2), Proto.Hex(span, 4), Attributes(span, 9).ToDictionary()));
                        }
                    }
                }
            }

            return spans;
        }

        // ExportMetricsServiceRequest: 1 ResourceMetrics { 2 ScopeMetrics { 1 scope { 1 name }, 2 Metric { 1 name } } }
        public HashSet<(string Name, string Scope)> Metrics() =>
            _metrics.SelectMany(body => Proto.Messages(body, 1))
                .SelectMany(r => Proto.Messages(r, 2))
                .SelectMany(s => Proto.Messages(s, 2).Select(m => (Proto.Text(m, 1) ?? "", Proto.Messages(s, 1).Select(x => Proto.Text(x, 1)).FirstOrDefault() ?? "")))
                .ToHashSet();

        // KeyValue { 1 key, 2 AnyValue { 1 string_value } }
        private static IEnumerable<KeyValuePair<string, string>> Attributes(ReadOnlyMemory<byte> message, int field) =>
            Proto.Messages(message, field).Select(kv => new KeyValuePair<string, string>(
                Proto.Text(kv, 1) ?? "",
                Proto.Messages(kv, 2).Select(v => Proto.Text(v, 1)).FirstOrDefault() ?? ""));

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    /// <summary>Just enough of the protobuf wire format to walk OTLP messages: varints and length-delimited fields.</summary>
    private static class Proto
    {
        public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field)
        {
            var at = 0;
            while (at < message.Length)
            {
                var key = Varint(message.Span, ref at);
                var wire = (int)(key & 7);
                ReadOnlyMemory<byte> payload = default;
                switch (wire)
                {
                    case 0: Varint(message.Span, ref at); break;
                    case 1: at += 8; break;
                    case 5: at += 4; break;
                    case 2:
                        var length = (int)Varint(message.Span, ref at);
                        payload = message.Slice(at, length);
                        at += length;
                        break;
                    default: throw new FormatException($"wire type {wire}");
                }

                if (wire == 2 && (int)(key >> 3) == field)
                {
                    yield return payload;
                }
            }
        }

        public static string? Text(ReadOnlyMemory<byte> message, int field) =>
            Messages(message, field).Select(m => Encoding.UTF8.GetString(m.Span)).FirstOrDefault();

        public static string Hex(ReadOnlyMemory<byte> message, int field) =>
            Messages(message, field).Select(m => Convert.ToHexStringLower(m.Span)).FirstOrDefault() ?? "";

        private static ulong Varint(ReadOnlySpan<byte> data, ref int at)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data[at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}
