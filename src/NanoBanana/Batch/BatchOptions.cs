namespace NanoBanana.Batch;

/// <summary>How a batch runs: limits, budgets, the journal, where images go.</summary>
public sealed class BatchOptions
{
    /// <summary>Jobs in flight at once, at most (also capped by <see cref="Limits"/>). Default 8.</summary>
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>The account's limits (concurrent tasks, images per minute), e.g. <see cref="AccountLimits.WaveSpeedBronze"/>. None by default.</summary>
    public AccountLimits? Limits { get; set; }

    /// <summary>
    /// The most this batch may spend, in USD, counted by the catalog price reserved before each submit (all runs of
    /// the batch that share the journal). A job that would cross it is not submitted.
    /// </summary>
    public decimal? BudgetUsd { get; set; }

    /// <summary>The most all batches sharing the journal's store may spend per UTC day, counted the same way.</summary>
    public decimal? DailyBudgetUsd { get; set; }

    /// <summary>The journal; a fresh in-memory one when null (nothing survives the process).</summary>
    public IPredictionJournal? Journal { get; set; }

    /// <summary>Where to save each image, as <c>{key}.png</c> (or <c>.jpg</c>, <c>.webp</c>); nothing is saved when null.</summary>
    public string? OutputDirectory { get; set; }

    /// <summary>
    /// Submit again a job whose earlier submit may have reached the service (its worker died mid-submit). Off by
    /// default: such a job may already be running and billed. With <see cref="WebhookUrl"/> it is sent again only once
    /// <see cref="UnknownOutcomeWait"/> has passed without a delivery naming it (an accepted job would have sent one),
    /// so set that wait well beyond the slowest job and the receiver's longest outage.
    /// </summary>
    public bool ResubmitUnknown { get; set; }

    /// <summary>
    /// WaveSpeedAI: a webhook URL each submit carries, with the job's key added as the
    /// <see cref="BatchWebhookReceiver.JobKeyParameter"/> query parameter. A receiver that passes deliveries to a
    /// <see cref="BatchWebhookReceiver"/> over the same journal records the prediction id of a job whose submit outcome
    /// is unknown (its worker died, or the submit's answer was lost), and the batch then resumes that job by id instead
    /// of holding it back. An absolute https URL (http only on a loopback host). Null by default.
    /// </summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>
    /// With <see cref="WebhookUrl"/>: how long a run waits for the webhook of a job whose submit outcome is unknown
    /// before reporting it as <see cref="BatchOutcome.OutcomeUnknown"/>. Other jobs go on meanwhile. Default 5 minutes.
    /// </summary>
    public TimeSpan UnknownOutcomeWait { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>This worker's name in the journal. Default: machine name and process id.</summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>How long a claim on a job holds without renewal; a dead worker's jobs are taken over after it. Default 30 s.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first wait after a 429 on submit; doubled on each further 429, up to the rate window. Default 1 s.</summary>
    public TimeSpan RateLimitBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The clock (leases, rate window, backoff). Default: the system clock.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the property and its limit when a setting is out of range.</summary>
    public void Validate()
    {
        if (MaxConcurrency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, "BatchOptions.MaxConcurrency must be at least 1.");
        }

        if (BudgetUsd is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BudgetUsd), BudgetUsd, "BatchOptions.BudgetUsd must be above 0 when set.");
        }

        if (DailyBudgetUsd is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DailyBudgetUsd), DailyBudgetUsd, "BatchOptions.DailyBudgetUsd must be above 0 when set.");
        }

        if (Lease < TimeSpan.FromSeconds(1) || Lease > RetryOptions.MaxSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(Lease), Lease, "BatchOptions.Lease must be at least 1 second and at most 1 day.");
        }

        if (RateLimitBackoff <= TimeSpan.Zero || RateLimitBackoff > RetryOptions.MaxSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(RateLimitBackoff), RateLimitBackoff, "BatchOptions.RateLimitBackoff must be positive and at most 1 day.");
        }

        if (WebhookUrl is { } hook && !Protocol.SubmitRequest.IsWebhookUrl(hook))
        {
            throw new ArgumentException($"BatchOptions.WebhookUrl must be an absolute https URL (http only on a loopback host); got '{hook}'.", nameof(WebhookUrl));
        }

        if (UnknownOutcomeWait < TimeSpan.Zero || UnknownOutcomeWait > NanoBananaOptions.MaxDeadline)
        {
            throw new ArgumentOutOfRangeException(nameof(UnknownOutcomeWait), UnknownOutcomeWait, $"BatchOptions.UnknownOutcomeWait must be from 0 to {NanoBananaOptions.MaxDeadline.TotalDays:0} days.");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(WorkerId, nameof(WorkerId));
        Limits?.Validate();
    }
}
