namespace NanoBanana.Emulator;

/// <summary>The faults the emulator can inject.</summary>
public enum FaultKind
{
    /// <summary>429 without Retry-After. On a submit: not accepted.</summary>
    RateLimited,

    /// <summary>429 with <c>Retry-After</c> (<see cref="EmulatorOptions.RetryAfterSeconds"/>). On a submit: not accepted.</summary>
    RateLimitedWithRetryAfter,

    /// <summary>500. On a submit the job IS created (the ambiguous case: the client must not resubmit).</summary>
    InternalError,

    /// <summary>503. On a submit: not accepted.</summary>
    Unavailable,

    /// <summary>The connection is aborted without a response. On a submit the job IS created first.</summary>
    DropConnection,

    /// <summary>200 with a body that is not JSON. On a submit the job IS created.</summary>
    MalformedJson,

    /// <summary>Submit target only: the job is accepted and ends <c>failed</c> with task code 5000 (service error).</summary>
    JobFails,

    /// <summary>Submit target only: the job is accepted and ends <c>failed</c> with task code 1200 (moderation).</summary>
    JobFailsModeration,

    /// <summary>Submit target only: the job is accepted and never finishes.</summary>
    JobNeverFinishes,

    /// <summary>Submit target only, sync mode: the submit answers <c>processing</c> with "Sync mode timed out" (code 5004); the job keeps running.</summary>
    SyncTimeout,

    /// <summary>Submit target only, sync mode: a gateway 504 whose body carries the job id; the job keeps running.</summary>
    GatewayTimeout,

    /// <summary>Submit target only: the poll URL (<c>urls.get</c>) points at a foreign host.</summary>
    ForeignPollUrl,

    /// <summary>Submit target only: the job is accepted but the response is held for <see cref="EmulatorOptions.SlowSubmitDelay"/> (a client timeout).</summary>
    SlowSubmit,

    /// <summary>
    /// Hostile: 200 and the first bytes of the answer, then one byte per <see cref="EmulatorOptions.DripInterval"/> until the
    /// client gives up. On a submit the job IS created first.
    /// </summary>
    DripBody,

    /// <summary>
    /// Hostile: 200 with a chunked JSON body of <see cref="EmulatorOptions.OversizedBodyBytes"/> (streamed, never held).
    /// On a submit the job IS created first, and the body names it before the padding.
    /// </summary>
    OversizedBody,

    /// <summary>
    /// Hostile: 200 and the first part of the answer, then the connection is aborted mid-body (a proxy or a network that
    /// drops it). On a submit the job IS created first, and the cut falls after the answer names it.
    /// </summary>
    CutBody,

    /// <summary>Hostile: a redirect to the same server under another host name (<c>localhost</c>): 307 on a submit (not accepted), 302 on a poll.</summary>
    Redirect,

    /// <summary>
    /// Hostile: the caller's key echoed back. On a submit the job is accepted and fails with an error text carrying the key
    /// verbatim and JSON-escaped; on a poll a 500 whose body and message carry it.
    /// </summary>
    EchoKey,

    /// <summary>Submit target only: the job completes with an inline output that is not valid base64.</summary>
    UndecodableOutput,

    /// <summary>Submit target only: the job completes with an output URL on the cloud metadata address 169.254.169.254.</summary>
    MetadataOutputUrl,

    /// <summary>Submit target only: the job completes with an output URL that serves an HTML page (text/html).</summary>
    NonImageOutput,

    /// <summary>Submit target only: the job completes with an output URL that streams <see cref="EmulatorOptions.HugeOutputBytes"/> of "PNG" (chunked).</summary>
    HugeOutput,

    /// <summary>Submit target only: the job completes with an output URL whose body drips (see <see cref="DripBody"/>).</summary>
    DripOutput,

    /// <summary>Submit target only: the job completes with <c>outputs: []</c>.</summary>
    EmptyOutputs,

    /// <summary>
    /// Submit target only: the output URL answers 302 to the same image under the host name <c>localhost</c>, and that
    /// answers 302 to the cloud metadata address when <see cref="EmulatorOptions.RedirectOutputToMetadata"/> is set.
    /// </summary>
    RedirectOutput,

    /// <summary>
    /// Submit target only, hostile: every answer about the job (the submit's, polls, the webhook) carries numbers no
    /// clock can hold: <c>executionTime</c> 9.3e15 ms, <c>timings.inference</c> "Infinity", <c>created_at</c> in the year
    /// 99999. The job itself runs and completes normally.
    /// </summary>
    AbsurdNumbers,

    /// <summary>
    /// Submit target only: the job completes, but its first <see cref="EmulatorOptions.LateOutputsAnswers"/> answers
    /// that report it completed (a sync answer, polls, the webhook) list <c>outputs: []</c>, as a relay that marks a
    /// job done before it has stored its outputs would; every later answer lists them.
    /// </summary>
    LateOutputs,
}
