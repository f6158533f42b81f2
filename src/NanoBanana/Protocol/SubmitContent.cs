using System.Net;

namespace NanoBanana.Protocol;

/// <summary>
/// The body of a submit. It knows whether it began to leave (a submit cancelled before that cannot have been accepted),
/// and it leaves once: a handler in the HttpClient's pipeline that sends the same submit again (a retry or hedging
/// handler the app added, for all its clients or for this one) finds the repeat refused before a byte of the body goes
/// out, so one job is never paid twice. The SDK's own handler allows one more send when it retries an answer that said
/// the job was not accepted (a 429, by the caller's choice). The transport itself never serializes a body twice over
/// HTTP/1.1, which the SDK's requests use: it retries on a fresh connection only when the body had not begun to leave.
/// In the DI registration's pipeline the transport gets a copy of the body from <see cref="SubmitSendGuard"/>, so that
/// a handler's read of the body as a string (which HttpContent buffers and copies to the wire unasked) hides no repeat.
/// </summary>
internal sealed class SubmitContent : HttpContent
{
    private readonly byte[] _body;
    private readonly SubmitContent _ledger; // where sends are counted: the submit's own body, for itself and its copies for the wire
    private int _sends;
    private int _allowed = 1;
    private int _guarded;

    public SubmitContent(byte[] body)
    {
        _body = body;
        _ledger = this;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
    }

    private SubmitContent(SubmitContent original)
    {
        _body = original._body;
        _ledger = original._ledger;
        foreach (var header in original.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    /// <summary>The request option under which a submit's request carries its body, also after a handler replaced its content.</summary>
    public static readonly HttpRequestOptionsKey<SubmitContent> RequestOption = new("NanoBanana.SubmitBody");

    /// <summary>The body of the submit <paramref name="request"/> is, or null when it is not one.</summary>
    public static SubmitContent? Of(HttpRequestMessage request) => request.Content switch
    {
        null => null, // a poll or a download: no lookup on their path
        SubmitContent body => body,
        _ => request.Options.TryGetValue(RequestOption, out var body) ? body : null,
    };

    /// <summary>Whether the body began to leave at least once.</summary>
    public bool SendingStarted => Volatile.Read(ref _ledger._sends) != 0;

    /// <summary>Allows one send beyond those made so far: the SDK's handler judged the last answer a refusal.</summary>
    public void AllowAnotherSend() => Volatile.Write(ref _ledger._allowed, Volatile.Read(ref _ledger._sends) + 1);

    /// <summary>
    /// Says that a <see cref="SubmitSendGuard"/> sits right above the transport and will send copies of this body
    /// (<see cref="ForTheWire"/>): from now on this body's own serializations are reads (a logging handler's
    /// <c>ReadAsStringAsync</c>), not sends. Such a read makes HttpContent keep a buffer of the body and copy it to the wire on
    /// every later send without asking the body, so only the guard's copies can count the sends.
    /// </summary>
    public void SentThroughAGuard() => Volatile.Write(ref _ledger._guarded, 1);

    /// <summary>A copy of this body for the guard to hand to the transport; its sends count with this body's.</summary>
    public SubmitContent ForTheWire()
    {
        SentThroughAGuard();
        lock (_ledger)
        {
            // Attempts of a hedging handler share this body: one copy's headers at a time.
            return new(this);
        }
    }

    /// <summary>
    /// Counts a send of this body inside another one: a handler replaced the request's content with its own (a signing
    /// handler's bytes, a compressing wrapper), so the guard cannot hand the transport a copy that counts, and counts the
    /// send as one that may leave.
    /// </summary>
    public void CountSendInsideAnotherBody() => _ledger.CountSend();

    // Each way out counts once (HttpContent's overloads call one another, so none calls the base).
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        BeginSend();
        return stream.WriteAsync(_body, cancellationToken).AsTask();
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        BeginSend();
        stream.Write(_body);
    }

    // Reading the body (a logging handler, say) is not sending it.
    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new MemoryStream(_body, writable: false));

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => new MemoryStream(_body, writable: false);

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }

    private void BeginSend()
    {
        if (!ReferenceEquals(_ledger, this) || Volatile.Read(ref _guarded) == 0)
        {
            // A copy made for the wire, or the body itself where no guard sends copies (an HttpClient the caller built).
            CountSend();
        }
    }

    private void CountSend()
    {
        if (Interlocked.Increment(ref _ledger._sends) > Volatile.Read(ref _ledger._allowed))
        {
            throw new RepeatRefusedException();
        }
    }

    /// <summary>
    /// A handler sent a submit the service may already have accepted a second time, and the body refused to go. An
    /// <see cref="HttpRequestException"/> that names no connection failure: the transport passes it on as it is, the SDK
    /// never retries it (it retries a submit's exception only when no connection was made), and a handler of the app's
    /// takes it for a failed attempt like any other: a retry handler tries again (refused again, with nothing sent) until
    /// it gives up, and a hedging handler goes on waiting for the attempt already in flight and returns its answer.
    /// </summary>
    internal sealed class RepeatRefusedException() : HttpRequestException(HttpRequestError.Unknown,
        "A handler in the HttpClient's pipeline sent this submit again after an earlier attempt had sent it (a retry or hedging handler the app added, for example); "
        + "the repeat was refused before its body left, so the job cannot be paid twice. The earlier attempt may have been accepted.")
    {
        /// <summary>Whether <paramref name="ex"/> or an exception inside it is a refused repeat.</summary>
        public static bool Within(Exception? ex)
        {
            for (var depth = 0; ex is not null && depth < 8; ex = ex.InnerException, depth++)
            {
                if (ex is RepeatRefusedException)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
