using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

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

    /// <summary>How many answers report a <see cref="FaultKind.LateOutputs"/> job completed without its outputs. Default 2.</summary>
    public int LateOutputsAnswers { get; set; } = 2;

    /// <summary>The host used in poll URLs by <see cref="FaultKind.ForeignPollUrl"/>.</summary>
    public Uri ForeignPollBaseUrl { get; set; } = new("https://foreign.example.invalid/");

    /// <summary>Chance (0..1) that any submit or poll exchange is hit by a random fault from <see cref="RandomFaults"/> (every kind when that list is empty).</summary>
    public double FaultRate { get; set; }

    /// <summary>The faults drawn when <see cref="FaultRate"/> is above 0; empty (the default) draws from every <see cref="FaultKind"/>.</summary>
    public IList<FaultKind> RandomFaults { get; } = [];

    /// <summary>
    /// The exchanges <see cref="FaultRate"/> hits: <see cref="FaultTarget.Any"/> (submits and polls, the default),
    /// <see cref="FaultTarget.Submit"/> or <see cref="FaultTarget.Poll"/>. Polls only is a flaky service that never
    /// leaves a submit's outcome unknown, so an app's own tests can count its jobs exactly.
    /// </summary>
    public FaultTarget RandomFaultTarget { get; set; } = FaultTarget.Any;

    /// <summary>Send <c>urls</c> as an array of objects (as some relays do) instead of an object.</summary>
    public bool UrlsAsArray { get; set; }

    /// <summary>
    /// How output URLs are written: absolute (the default), from the root of the emulator's origin (<c>/outputs/…</c>) or
    /// from the scheme (<c>//127.0.0.1:port/outputs/…</c>). Clients must resolve the last two against the API's address.
    /// </summary>
    public OutputUrlForm OutputUrls { get; set; }

    /// <summary>Send <c>created_at</c> as ISO-8601 with 8 fractional digits instead of "yyyy-MM-dd HH:mm:ss".</summary>
    public bool IsoTimestamps { get; set; }

    /// <summary>
    /// How much later every request reaches the service (real time, not scaled), as over a network: a job starts that
    /// much after its submit left, and every answer comes that much later. Default zero; at most <see cref="MaxRequestDelay"/>.
    /// </summary>
    public TimeSpan RequestDelay { get; set; }

    /// <summary>The longest <see cref="RequestDelay"/>: 10 s.</summary>
    public static readonly TimeSpan MaxRequestDelay = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The <c>Content-Type</c> of output downloads: null (the default) labels them as what they are (<c>image/png</c>);
    /// <c>binary/octet-stream</c> is how S3 serves an object stored without a type; <c>""</c> sends none.
    /// </summary>
    public string? OutputContentType { get; set; }

    /// <summary>
    /// The status of a job not yet running, on the GPT Proto and WaveSpeedAI routes (the submit's answer and the first
    /// tenth of the job). Default <c>created</c>, as documented; a service may say <c>queued</c> or <c>pending</c>, which
    /// a client must read as "keep polling".
    /// </summary>
    public string QueuedStatus { get; set; } = "created";

    /// <summary>The status of a running job on the GPT Proto and WaveSpeedAI routes. Default <c>processing</c>, as documented.</summary>
    public string RunningStatus { get; set; } = "processing";

    /// <summary>
    /// The status of a job that finished with an image, in submit and poll answers on the GPT Proto and WaveSpeedAI
    /// routes. Default <c>completed</c>, as documented; a relay may say <c>succeeded</c>, which a client must not take for
    /// "still running" without saying so. Webhook deliveries keep the documented words.
    /// </summary>
    public string CompletedStatus { get; set; } = "completed";

    /// <summary>The status of a job that failed, as <see cref="CompletedStatus"/> is of one that completed. Default <c>failed</c>.</summary>
    public string FailedStatus { get; set; } = "failed";

    /// <summary>
    /// Answer polls (GPT Proto and WaveSpeedAI routes) with only <c>status</c>, <c>outputs</c> and <c>error</c> (and its
    /// code): no id, model, poll URL, timings, NSFW flags or timestamp, as a relay that passes on only what WaveSpeedAI's
    /// SDKs read would. Submit answers and webhook deliveries stay whole.
    /// </summary>
    public bool LeanPolls { get; set; }

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

    /// <summary>
    /// Every setting that cannot work, each naming its property, its limits and the value given. A fault rate of 2, a
    /// negative σ or a slow share above 1 used to start an emulator that behaved oddly instead of saying so.
    /// </summary>
    internal IEnumerable<string> Problems()
    {
        static string Shown(double v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

        if (Port is < 0 or > 65535)
        {
            yield return $"EmulatorOptions.Port must be from 0 (a free port) to 65535 (got {Port}).";
        }

        if (ApiKey is not null && string.IsNullOrWhiteSpace(ApiKey))
        {
            yield return "EmulatorOptions.ApiKey must be null (any key is accepted) or a key, not empty.";
        }

        if (!(FaultRate is >= 0 and <= 1))
        {
            yield return $"EmulatorOptions.FaultRate must be from 0 to 1 (got {Shown(FaultRate)}).";
        }

        foreach (var (name, value) in new[] { (nameof(QueuedStatus), QueuedStatus), (nameof(RunningStatus), RunningStatus) })
        {
            if (string.IsNullOrWhiteSpace(value) || new NanoBanana.Protocol.PredictionStatus(value).IsTerminal)
            {
                yield return $"EmulatorOptions.{name} must name a status that is not terminal (got \"{value}\").";
            }
        }

        var said = new[] { QueuedStatus, RunningStatus, CompletedStatus, FailedStatus };
        foreach (var (name, value) in new[] { (nameof(CompletedStatus), CompletedStatus), (nameof(FailedStatus), FailedStatus) })
        {
            if (string.IsNullOrWhiteSpace(value) || said.Count(s => string.Equals(s, value, StringComparison.OrdinalIgnoreCase)) > 1)
            {
                yield return $"EmulatorOptions.{name} must name a status of its own, not empty and unlike the other three (got \"{value}\").";
            }
        }

        if (RandomFaultTarget is not (FaultTarget.Any or FaultTarget.Submit or FaultTarget.Poll))
        {
            yield return $"EmulatorOptions.RandomFaultTarget must be Any, Submit or Poll (got {RandomFaultTarget}); random faults never hit uploads.";
        }

        if (!(ExecutionTimeFactor > 0 && double.IsFinite(ExecutionTimeFactor)))
        {
            yield return $"EmulatorOptions.ExecutionTimeFactor must be above 0 (got {Shown(ExecutionTimeFactor)}).";
        }

        foreach (var (name, value, least) in new[]
        {
            (nameof(RetryAfterSeconds), (long)RetryAfterSeconds, 0L),
            (nameof(MaxLogEntries), MaxLogEntries, 0),
            (nameof(MaxRetainedJobs), MaxRetainedJobs, 0),
            (nameof(MaxUploadRetentionBytes), MaxUploadRetentionBytes, 0),
            (nameof(OversizedBodyBytes), OversizedBodyBytes, 1),
            (nameof(HugeOutputBytes), HugeOutputBytes, 1),
            (nameof(WebhookAttempts), WebhookAttempts, 1),
            (nameof(LateOutputsAnswers), LateOutputsAnswers, 1),
        })
        {
            if (value < least)
            {
                yield return $"EmulatorOptions.{name} must be at least {least} (got {value}).";
            }
        }

        foreach (var (name, value, zeroAllowed) in new[]
        {
            (nameof(SyncModeTimeout), SyncModeTimeout, false),
            (nameof(DripInterval), DripInterval, false),
            (nameof(SlowSubmitDelay), SlowSubmitDelay, true),
            (nameof(DripDuration), DripDuration, true),
            (nameof(WebhookRetryDelay), WebhookRetryDelay, true),
            (nameof(RequestDelay), RequestDelay, true),
        })
        {
            if (value < TimeSpan.Zero || (!zeroAllowed && value == TimeSpan.Zero))
            {
                yield return $"EmulatorOptions.{name} must be {(zeroAllowed ? "0 or more" : "above 0")} (got {value}).";
            }
        }

        if (RequestDelay > MaxRequestDelay)
        {
            yield return $"EmulatorOptions.RequestDelay must be at most {MaxRequestDelay.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s (got {RequestDelay}).";
        }

        foreach (var problem in Latency.Problems("EmulatorOptions.Latency"))
        {
            yield return problem;
        }

        foreach (var (model, profile) in LatencyByModel)
        {
            foreach (var problem in profile.Problems($"EmulatorOptions.LatencyByModel[\"{model}\"]"))
            {
                yield return problem;
            }
        }
    }
}
