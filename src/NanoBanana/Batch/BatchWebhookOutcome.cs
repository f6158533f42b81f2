namespace NanoBanana.Batch;

/// <summary>What a <see cref="BatchWebhookReceiver"/> did with a delivery.</summary>
public enum BatchWebhookOutcome
{
    /// <summary>The job's submit outcome was unknown; its prediction id is now recorded and a run resumes it.</summary>
    Recovered,

    /// <summary>The journal already knew the job's prediction (the usual case): nothing changed.</summary>
    AlreadyKnown,

    /// <summary>The journal has no job with the key the URL names (another batch's delivery?).</summary>
    UnknownJob,

    /// <summary>The delivery URL carries no job key: not a batch submit.</summary>
    NoJobKey,
}
