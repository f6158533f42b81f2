namespace NanoBanana.Polling;

/// <summary>
/// What one wait saw: the job completed in (<see cref="Lower"/>, <see cref="Upper"/>] seconds after its submit.
/// <see cref="Upper"/> is +∞ when the wait ended without seeing completion (deadline, cancellation: right-censored);
/// equal bounds are an exact time (a plausible <c>executionTime</c>, or a sync-mode answer).
/// </summary>
internal readonly record struct CompletionObservation(double Lower, double Upper)
{
    public bool IsCensored => double.IsPositiveInfinity(Upper);
}
