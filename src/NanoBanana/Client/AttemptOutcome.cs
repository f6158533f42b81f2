namespace NanoBanana;

/// <summary>How one attempt of a job ended.</summary>
public enum AttemptOutcome
{
    /// <summary>Completed with outputs.</summary>
    Completed,

    /// <summary>Accepted, then failed at the service (refunded).</summary>
    Failed,

    /// <summary>The service refused the submit (nothing billed).</summary>
    NotAccepted,
}
