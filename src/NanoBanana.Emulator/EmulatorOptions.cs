using NanoBanana.Catalog;

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
    /// On a submit the job IS created first.
    /// </summary>
    OversizedBody,

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
}

/// <summary>Which exchanges a fault applies to.</summary>
public enum FaultTarget
{
    /// <summary>Submits and polls.</summary>
    Any,

    /// <summary>Submits only.</summary>
    Submit,

    /// <summary>Polls only.</summary>
    Poll,

    /// <summary>Uploads of local reference images only (<see cref="Any"/> does not include them).</summary>
    Upload,
}

/// <summary>How the emulator behaves.</summary>
public sealed class EmulatorOptions
{
    /// <summary>
    /// A prefix for prediction ids. Ids in the wild carry <c>:</c> and <c>/</c> (<c>sora-2:task_…</c>, unified ids):
    /// set e.g. <c>"sora-2:task/"</c> to check that they round-trip through poll paths.
    /// </summary>
    public string IdPrefix { get; set; } = "";

    /// <summary>Multiplies every latency: 0.001 makes a 4–8 s job take 4–8 ms. Default 1 (real time); above 0, at most <see cref="NanoBananaEmulator.MaxTimeScale"/>.</summary>
    public double TimeScale { get; set; } = 1.0;

    /// <summary>The port; 0 picks a free one. The emulator binds to 127.0.0.1 only.</summary>
    public int Port { get; set; }

    /// <summary>The key the emulator expects; null accepts any non-empty key. Raw and Bearer are both accepted.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The catalog (models, sizes, ratios, pixel sizes, latency ranges).</summary>
    public ModelCatalog Catalog { get; set; } = ModelCatalog.Default;

    /// <summary>
    /// Model ids (or WaveSpeed slugs) the emulator answers as unknown, as a provider does once it stops routing a
    /// retired preview id: GPT Proto's route answers 404, the unified API a 400 naming the model. Successor ids and
    /// aliases in the catalog are accepted. Empty by default.
    /// </summary>
    public ISet<string> UnknownModelIds { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Samples a job's latency in unscaled seconds; null samples uniformly over the catalog's typical range.</summary>
    public Func<ImageModel, Random, double>? LatencySampler { get; set; }

    /// <summary>The completion-time distribution of every model (default: uniform over the catalog's typical range).</summary>
    public LatencyProfile Latency { get; set; } = new();

    /// <summary>Per-model completion-time distributions (by model id), overriding <see cref="Latency"/>.</summary>
    public IDictionary<string, LatencyProfile> LatencyByModel { get; } = new Dictionary<string, LatencyProfile>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Whether predictions report <c>executionTime</c> and <c>timings.inference</c>. Off by default: services do not
    /// reliably report them (protocol.md's own example sends 0), so the client must not depend on them.
    /// </summary>
    public bool ReportExecutionTime { get; set; }

    /// <summary>
    /// With <see cref="ReportExecutionTime"/>, what the reported times are as a multiple of the jobs' true times. Default 1:
    /// honest. 0.001 is a service that sends seconds where milliseconds are read; 0.7 one that leaves the queue out.
    /// </summary>
    public double ExecutionTimeFactor { get; set; } = 1;

    /// <summary>Random seed for latencies and random faults; null for a random seed.</summary>
    public int? Seed { get; set; }

    /// <summary>How long sync mode waits (unscaled) before answering "Sync mode timed out". Default 60 s.</summary>
    public TimeSpan SyncModeTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The Retry-After value sent with <see cref="FaultKind.RateLimitedWithRetryAfter"/>. Default 1.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>How long a <see cref="FaultKind.SlowSubmit"/> holds the response (real time). Default 30 s.</summary>
    public TimeSpan SlowSubmitDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The gap between two bytes of a dripping body (<see cref="FaultKind.DripBody"/>, <see cref="FaultKind.DripOutput"/>). Default 1 s.</summary>
    public TimeSpan DripInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest a drip goes on (real time). Default 10 minutes.</summary>
    public TimeSpan DripDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Makes <see cref="FaultKind.RedirectOutput"/> end at 169.254.169.254 instead of the image.</summary>
    public bool RedirectOutputToMetadata { get; set; }

    /// <summary>The size of an <see cref="FaultKind.OversizedBody"/> answer. Default 50 MB.</summary>
    public long OversizedBodyBytes { get; set; } = 50_000_000;

    /// <summary>The size of a <see cref="FaultKind.HugeOutput"/> download. Default 512 MiB.</summary>
    public long HugeOutputBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>The host used in poll URLs by <see cref="FaultKind.ForeignPollUrl"/>.</summary>
    public Uri ForeignPollBaseUrl { get; set; } = new("https://foreign.example.invalid/");

    /// <summary>Chance (0..1) that any submit or poll exchange is hit by a random fault from <see cref="RandomFaults"/>.</summary>
    public double FaultRate { get; set; }

    /// <summary>The faults drawn when <see cref="FaultRate"/> is above 0.</summary>
    public IList<FaultKind> RandomFaults { get; } = [];

    /// <summary>Send <c>urls</c> as an array of objects (as some relays do) instead of an object.</summary>
    public bool UrlsAsArray { get; set; }

    /// <summary>Send <c>created_at</c> as ISO-8601 with 8 fractional digits instead of "yyyy-MM-dd HH:mm:ss".</summary>
    public bool IsoTimestamps { get; set; }

    /// <summary>Keep request bodies in the log (truncated to 4 KB). Default true.</summary>
    public bool LogBodies { get; set; } = true;

    /// <summary>
    /// Draw the model, size, ratio, prediction id and the prompt's first words on each output image (default
    /// <see langword="true"/>). Off, every job of one size and tier gets the same plain gradient, made once.
    /// </summary>
    public bool LabelImages { get; set; } = true;

    /// <summary>
    /// The account's limits: a submit that would exceed the concurrent tasks or the images per window is answered
    /// 429 (with Retry-After) and creates nothing. The window is scaled by <see cref="TimeScale"/>. None by default.
    /// </summary>
    public NanoBanana.Batch.AccountLimits? AccountLimits { get; set; }

    /// <summary>Maximum log entries kept (oldest dropped). Default 100,000.</summary>
    public int MaxLogEntries { get; set; } = 100_000;

    /// <summary>
    /// The most predictions kept at once. Past it, the oldest finished ones are dropped first, as a service lets its
    /// predictions expire (WaveSpeedAI keeps them 7 days), so a long-running emulator does not hold every job it ever ran
    /// (a prompt may be 32,000 characters). A dropped prediction answers 404, as an expired one does; a job still running
    /// is never dropped. <see cref="NanoBananaEmulator.Jobs"/> and the counts over jobs cover the predictions kept;
    /// <see cref="NanoBananaEmulator.AcceptedSubmits"/> counts every one. Default 100,000.
    /// </summary>
    public int MaxRetainedJobs { get; set; } = 100_000;

    /// <summary>
    /// The most bytes of uploaded files kept at once (oldest dropped first, as a service lets its uploads expire), so a
    /// long-running emulator does not hold every upload for its whole life. A dropped upload's URL answers 404 and a
    /// submit that names it is refused as unfetchable. Default 256 MiB (at least twelve 20 MB uploads).
    /// </summary>
    public long MaxUploadRetentionBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// How many times a webhook delivery is tried when the receiver does not answer with a 2xx (WaveSpeedAI does not
    /// document its own retry policy). Default 3.
    /// </summary>
    public int WebhookAttempts { get; set; } = 3;

    /// <summary>The wait before the second delivery attempt, doubled after each further one, scaled by <see cref="TimeScale"/>. Default 1 s.</summary>
    public TimeSpan WebhookRetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>One request the emulator received.</summary>
public sealed record EmulatorRequest
{
    /// <summary>When it arrived (UTC).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>HTTP method.</summary>
    public required string Method { get; init; }

    /// <summary>Request path and query string.</summary>
    public required string Path { get; init; }

    /// <summary>"submit", "poll", "output" or "other".</summary>
    public required string Kind { get; init; }

    /// <summary>Whether an Authorization header was present.</summary>
    public bool HasAuthorization { get; init; }

    /// <summary>"Bearer", "Raw" or null.</summary>
    public string? AuthorizationScheme { get; init; }

    /// <summary>Whether the key matched the expected one.</summary>
    public bool AuthorizationValid { get; init; }

    /// <summary>The request body (submits), truncated.</summary>
    public string? Body { get; init; }

    /// <summary>The model route segment of a submit.</summary>
    public string? Model { get; init; }

    /// <summary>The prediction id concerned.</summary>
    public string? PredictionId { get; internal set; }

    /// <summary>Whether a submit created a (billable) job.</summary>
    public bool Accepted { get; internal set; }

    /// <summary>The status code sent (0 when the connection was dropped).</summary>
    public int StatusCode { get; internal set; }

    /// <summary>The injected fault, if any.</summary>
    public FaultKind? Fault { get; internal set; }
}

/// <summary>
/// A reply the emulator sends verbatim on the next matching exchange instead of the emulated one: a provider's body
/// exactly as documented or as its SDK tests it. In <see cref="Body"/>, <c>%ID%</c> becomes the prediction id (<c>%ESCAPED_ID%</c> the id escaped for a URL path),
/// <c>%OUTPUT%</c> the URL of the job's first output and <c>%BASE%</c> the server root.
/// </summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="Body">The body.</param>
/// <param name="ContentType">The content type.</param>
public sealed record EmulatorReply(int StatusCode, string Body, string ContentType = "application/json")
{
    /// <summary>On a submit: whether the job is created (accepted and billable) before the reply is sent.</summary>
    public bool AcceptsJob { get; init; } = true;
}

/// <summary>The shape of a model's completion times in the emulator.</summary>
public enum LatencyShape
{
    /// <summary>Uniform over the catalog's typical range.</summary>
    Uniform,

    /// <summary>Lognormal with the range's geometric mean as median and <see cref="LatencyProfile.Sigma"/>.</summary>
    LogNormal,

    /// <summary>Two modes: most jobs uniform over the range, <see cref="LatencyProfile.SlowShare"/> queued and 2–3× longer.</summary>
    TwoMode,

    /// <summary>Uniform over the range, then, after <see cref="LatencyProfile.DriftAfterJobs"/> jobs of the model, <see cref="LatencyProfile.DriftFactor"/> times longer.</summary>
    Drift,
}

/// <summary>A completion-time distribution for the emulator, in the catalog's (unscaled) seconds.</summary>
public sealed record LatencyProfile
{
    /// <summary>The shape.</summary>
    public LatencyShape Shape { get; init; } = LatencyShape.Uniform;

    /// <summary>Lognormal sigma. Default 0.45.</summary>
    public double Sigma { get; init; } = 0.45;

    /// <summary>Two-mode: the share of queued jobs. Default 0.3.</summary>
    public double SlowShare { get; init; } = 0.3;

    /// <summary>Two-mode: queued jobs take this many times longer, at least. Default 2.</summary>
    public double SlowFactorMin { get; init; } = 2;

    /// <summary>Two-mode: queued jobs take this many times longer, at most. Default 3.</summary>
    public double SlowFactorMax { get; init; } = 3;

    /// <summary>Drift: jobs of the model before the change. Default 130.</summary>
    public int DriftAfterJobs { get; init; } = 130;

    /// <summary>Drift: how much longer jobs take after the change. Default 1.6.</summary>
    public double DriftFactor { get; init; } = 1.6;

    /// <summary>Draws one completion time (seconds) for the <paramref name="jobIndex"/>-th job of a model.</summary>
    public double Sample(ImageModel model, Random random, int jobIndex)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(random);
        var lo = model.TypicalLatencyMin.TotalSeconds;
        var hi = model.TypicalLatencyMax.TotalSeconds;
        var uniform = lo + ((hi - lo) * random.NextDouble());
        switch (Shape)
        {
            case LatencyShape.LogNormal:
                var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                return Math.Sqrt(lo * hi) * Math.Exp(Sigma * z);
            case LatencyShape.TwoMode:
                return random.NextDouble() < SlowShare ? uniform * (SlowFactorMin + ((SlowFactorMax - SlowFactorMin) * random.NextDouble())) : uniform;
            case LatencyShape.Drift:
                return jobIndex >= DriftAfterJobs ? uniform * DriftFactor : uniform;
            default:
                return uniform;
        }
    }
}
