using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NanoBanana.Batch;
using NanoBanana.Protocol;

namespace NanoBanana.Soak;

/// <summary>
/// A webhook endpoint on loopback, as an application would host one: each delivery goes to a
/// <see cref="BatchWebhookReceiver"/> (answered 200, or 401 when the signature does not verify). It can be told to
/// answer 503 for a while, to stand for a receiver that is down.
/// </summary>
internal sealed class WebhookSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly BatchWebhookReceiver _receiver;
    private int _rejected;

    private WebhookSink(WebApplication app, BatchWebhookReceiver receiver)
    {
        _app = app;
        _receiver = receiver;
    }

    /// <summary>The URL to give <see cref="BatchOptions.WebhookUrl"/>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>What the receiver made of each delivery it accepted.</summary>
    public ConcurrentQueue<BatchWebhookOutcome> Outcomes { get; } = new();

    /// <summary>Deliveries refused: bad signature (401) or the sink was down (503).</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    /// <summary>While true, every delivery is answered 503.</summary>
    public bool Down { get; set; }

    public static async Task<WebhookSink> StartAsync(IPredictionJournal journal, string secret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var sink = new WebhookSink(app, new BatchWebhookReceiver(journal, new WebhookVerifier(secret)));
        app.MapPost("/hooks/nanobanana", sink.ReceiveAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sink.Url = new Uri(address.TrimEnd('/') + "/hooks/nanobanana?batch=test");
        return sink;
    }

    private async Task ReceiveAsync(HttpContext ctx)
    {
        if (Down)
        {
            Interlocked.Increment(ref _rejected);
            ctx.Response.StatusCode = 503;
            return;
        }

        // The request's body as a stream: the receiver reads it only once the headers pass, and only to its bound.
        var body = new CountingStream(ctx.Request.Body);
        try
        {
            var h = ctx.Request.Headers;
            Outcomes.Enqueue(await _receiver.ReceiveAsync(new Uri(ctx.Request.GetEncodedUrl()), h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], body, ctx.RequestAborted));
            ctx.Response.StatusCode = 200;
        }
        catch (WebhookVerificationException)
        {
            Interlocked.Increment(ref _rejected);
            ctx.Response.StatusCode = 401;
        }
        finally
        {
            Interlocked.Add(ref _bodyBytesRead, body.BytesRead);
        }
    }

    private long _bodyBytesRead;

    /// <summary>Bytes of request bodies the receiver read, over every delivery.</summary>
    public long BodyBytesRead => Interlocked.Read(ref _bodyBytesRead);

    // Counts what is read through it.
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            BytesRead += read;
            return read;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
