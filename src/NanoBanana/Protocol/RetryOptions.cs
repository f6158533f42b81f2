namespace NanoBanana;

/// <summary>Transport retries and timeouts for single HTTP exchanges.</summary>
public sealed class RetryOptions
{
    /// <summary>Retries of an idempotent request (polls, downloads) on 408/429/5xx, dropped connections and per-attempt timeouts. Default 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>The first backoff delay; doubles each retry, with jitter. Default 500 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The largest backoff delay. Default 10 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most a Retry-After header may make the client wait (a floor, capped here). Default 30 s.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Timeout of one poll attempt, from sending to the last byte of the body (a body that drips slower is cut off and
    /// retried), and of a download's response headers. Default 30 s.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of a submit (without sync mode), body included. After it the outcome is unknown and the submit is not repeated. Default 60 s.</summary>
    public TimeSpan SubmitTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of a sync-mode submit. Default 3 minutes.</summary>
    public TimeSpan SyncSubmitTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Retry a submit whose connection could not be established, or that a gateway answered it could not pass on
    /// (Cloudflare's 521, 522, 523, 525, 526, 530): nothing reached the service, nothing was billed. Default true.
    /// </summary>
    public bool RetrySubmitWhenNotSent { get; set; } = true;

    /// <summary>
    /// Retry a submit answered 429 (not accepted, not billed), after Polly's backoff or the answer's Retry-After, up to
    /// <see cref="MaxSubmitRetries"/> times, before the job moves to its next model or fails. Default true: a rate limit
    /// is usually over in seconds, and moving on at once sent the job to a model that is often pricier (Pro is twice Nano
    /// Banana 2) and behind the same account limit. False moves on at the first 429. A batch always sees its 429s at once
    /// (it slows itself down and sends the job again later).
    /// </summary>
    public bool RetrySubmitOnRateLimit { get; set; } = true;

    /// <summary>Retries of a submit in the two safe cases above. Default 3.</summary>
    public int MaxSubmitRetries { get; set; } = 3;

    internal IEnumerable<string> Validate(string path)
    {
        if (MaxRetries < 0)
        {
            yield return $"{path}:MaxRetries must be zero or more.";
        }

        if (MaxSubmitRetries < 0)
        {
            yield return $"{path}:MaxSubmitRetries must be zero or more.";
        }

        if (BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            yield return $"{path}: need 0 < BaseDelay <= MaxDelay.";
        }
        else if (MaxDelay > MaxSpan)
        {
            yield return $"{path}:MaxDelay is {MaxDelay}; it must be at most 1 day.";
        }

        if (MaxRetryAfter < TimeSpan.Zero)
        {
            yield return $"{path}:MaxRetryAfter must not be negative.";
        }

        foreach (var (name, value) in new[] { (nameof(AttemptTimeout), AttemptTimeout), (nameof(SubmitTimeout), SubmitTimeout), (nameof(SyncSubmitTimeout), SyncSubmitTimeout) })
        {
            if (value <= TimeSpan.Zero || value > MaxSpan)
            {
                yield return $"{path}:{name} is {value}; it must be positive and at most 1 day.";
            }
        }
    }

    // The longest delay or timeout a setting may ask for: Polly's own bound, far beyond any image request, and well
    // inside what a timer can hold.
    internal static readonly TimeSpan MaxSpan = TimeSpan.FromDays(1);

    /// <summary>A copy that later changes to this object do not reach.</summary>
    internal RetryOptions Snapshot() => (RetryOptions)MemberwiseClone();
}
