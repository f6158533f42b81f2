namespace NanoBanana.Protocol;

/// <summary>
/// One of the two handlers right above the transport in the HttpClient the DI registration builds (the other is
/// <see cref="CredentialFreeDownloads"/>): it hands the transport a fresh copy
/// of a submit's body (<see cref="SubmitContent.ForTheWire"/>) whose sends count with the body's. A handler above that
/// read the body as a string or bytes (a logging handler's <c>ReadAsStringAsync</c>) made HttpContent keep a buffer of
/// it, which every later send copies to the wire without asking the body: a handler that then repeats the submit (a
/// retry handler between the logger and the transport) sent it again unseen, a second paid job. Through the copy the
/// repeat is refused as any other is. A submit whose content a handler replaced with its own (a signing handler's bytes)
/// is counted as a send that may leave, as it passes. Every other request passes untouched. <see cref="Announcer"/>, the
/// first handler of the same pipeline, tells each submit the guard is there, so that a read above it is not taken for a
/// send.
/// </summary>
internal sealed class SubmitSendGuard : DelegatingHandler
{
    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = SendCopy(request);
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Restore(request, body);
        }
    }

    /// <inheritdoc />
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = SendCopy(request);
        try
        {
            return base.Send(request, cancellationToken);
        }
        finally
        {
            Restore(request, body);
        }
    }

    // Puts a counting copy of a submit's body on the request and returns the body to put back; counts a send of a body a
    // handler replaced; leaves every other request as it is (null).
    private static SubmitContent? SendCopy(HttpRequestMessage request)
    {
        if (SubmitContent.Of(request) is not { } body)
        {
            return null;
        }

        if (!ReferenceEquals(request.Content, body))
        {
            body.CountSendInsideAnotherBody();
            return null;
        }

        request.Content = body.ForTheWire();
        return body;
    }

    private static void Restore(HttpRequestMessage request, SubmitContent? body)
    {
        if (body is not null)
        {
            request.Content = body;
        }
    }

    /// <summary>
    /// The first handler of a pipeline whose last is a <see cref="SubmitSendGuard"/>: it tells each submit so before any
    /// handler of the app's can read its body (<see cref="SubmitContent.SentThroughAGuard"/>). A read taken for a send
    /// made a submit cancelled before it left look as if it might have been accepted.
    /// </summary>
    internal sealed class Announcer : DelegatingHandler
    {
        /// <inheritdoc />
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            SubmitContent.Of(request)?.SentThroughAGuard();
            return base.SendAsync(request, cancellationToken);
        }

        /// <inheritdoc />
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            SubmitContent.Of(request)?.SentThroughAGuard();
            return base.Send(request, cancellationToken);
        }
    }
}
