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

        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body, ctx.RequestAborted);
        try
        {
            var h = ctx.Request.Headers;
            Outcomes.Enqueue(await _receiver.ReceiveAsync(new Uri(ctx.Request.GetEncodedUrl()), h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], body.ToArray(), ctx.RequestAborted));
            ctx.Response.StatusCode = 200;
        }
        catch (WebhookVerificationException)
        {
            Interlocked.Increment(ref _rejected);
            ctx.Response.StatusCode = 401;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
