namespace NanoBanana.Protocol;

/// <summary>
/// The handler right above the transport in the HttpClient the DI registration builds (below
/// <see cref="SubmitSendGuard"/>): a download of an output (a request carrying <see cref="OutputUrlPolicy.RequestOption"/>)
/// leaves without an <c>Authorization</c> or <c>Cookie</c> header, whoever added one. The host is one the service named
/// (a CDN); an app that authenticates to its own services for every HttpClient (a default header, a token handler added
/// with <c>ConfigureHttpClientDefaults</c>) sent its token and session there. The SDK itself never sends credentials
/// with a download. A host the caller listed in <see cref="LimitOptions.AllowedOutputHosts"/> (a private CDN, which may
/// want the app's token) keeps them.
/// </summary>
internal sealed class CredentialFreeDownloads : DelegatingHandler
{
    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Strip(request);
        return base.SendAsync(request, cancellationToken);
    }

    /// <inheritdoc />
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Strip(request);
        return base.Send(request, cancellationToken);
    }

    private static void Strip(HttpRequestMessage request)
    {
        if (request.Content is null && request.Options.TryGetValue(OutputUrlPolicy.RequestOption, out var policy)
            && !(request.RequestUri is { } uri && policy.Lists(uri)))
        {
            request.Headers.Authorization = null;
            request.Headers.Remove("Cookie");
        }
    }
}
