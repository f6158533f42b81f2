namespace NanoBanana.Protocol;

/// <summary>
/// One connection pool for every client that builds its own <see cref="HttpClient"/>, as <c>IHttpClientFactory</c>
/// gives the DI registration. A client made per request (<c>using var client = new NanoBananaClient(options)</c> in a
/// handler) had a pool of its own, and disposing it closed its connections: 300 clients left 300 sockets in TIME_WAIT
/// (a probe over the emulator), the road to exhausting ephemeral ports and a TLS handshake per job. Each client now
/// gets a lease on the process's one <see cref="NanoBananaResilienceHandler.CreatePrimaryHandler"/>, whose settings do
/// not depend on the options (retries and timeouts live in the per-client resilience handler above it), and disposing
/// the lease leaves the pool to the others. Connections are still recycled every 5 minutes, so DNS changes are seen.
/// </summary>
internal static class SharedTransport
{
    private static readonly Lazy<HttpMessageInvoker> Primary = new(() => new HttpMessageInvoker(NanoBananaResilienceHandler.CreatePrimaryHandler(), disposeHandler: false));

    /// <summary>A handler over the shared pool that a client may dispose without closing it.</summary>
    public static HttpMessageHandler Lease() => new LeasedHandler(Primary.Value);

    // Not a DelegatingHandler, which would dispose the shared handler with the client.
    private sealed class LeasedHandler(HttpMessageInvoker shared) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            shared.SendAsync(request, cancellationToken);

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
            shared.Send(request, cancellationToken);
    }
}
