namespace NanoBanana.Protocol;

/// <summary>
/// One connection pool for the clients that build their own <see cref="HttpClient"/>, as <c>IHttpClientFactory</c>
/// gives the DI registration. A client made per request (<c>using var client = new NanoBananaClient(options)</c> in a
/// handler) had a pool of its own, and disposing it closed its connections: 300 clients left 300 sockets in TIME_WAIT
/// (a probe over the emulator), the road to exhausting ephemeral ports and a TLS handshake per job. Each client now
/// gets a lease on a pool of the process's <see cref="NanoBananaResilienceHandler.CreatePrimaryHandler"/>, whose
/// settings do not depend on the options (retries and timeouts live in the per-client resilience handler above it),
/// and disposing the lease leaves the pool to the others. Clients whose download policies differ (allowed output hosts,
/// an API on loopback) get different pools: the transport judges a download's addresses only when it opens a
/// connection (<see cref="OutputUrlPolicy.PoolKey"/>). Connections are still recycled every 5 minutes.
/// </summary>
internal static class SharedTransport
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<HttpMessageInvoker>> Pools = new(StringComparer.Ordinal);

    /// <summary>A handler over the pool for <paramref name="policyKey"/> that a client may dispose without closing it.</summary>
    public static HttpMessageHandler Lease(string policyKey) =>
        new LeasedHandler(Pools.GetOrAdd(policyKey, _ => new Lazy<HttpMessageInvoker>(() => new HttpMessageInvoker(NanoBananaResilienceHandler.CreatePrimaryHandler(), disposeHandler: false))).Value);

    // Not a DelegatingHandler, which would dispose the shared handler with the client.
    private sealed class LeasedHandler(HttpMessageInvoker shared) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            shared.SendAsync(request, cancellationToken);

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
            shared.Send(request, cancellationToken);
    }
}
