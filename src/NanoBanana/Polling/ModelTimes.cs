namespace NanoBanana.Polling;

/// <summary>
/// What a client learned about one model's completion times, as a restart should keep it: the waits, oldest first;
/// which of them were taken from the service's <c>executionTime</c> and the interval polling saw for each (so that a
/// later refutation can put the interval back); and how far the model's reports have earned trust.
/// </summary>
/// <param name="Id">The model id.</param>
/// <param name="Waits">The observations, oldest first.</param>
/// <param name="FromReports">Waits taken from a reported time: the index in <paramref name="Waits"/> and the interval polling saw.</param>
/// <param name="ReportsConfirmed">Reports that agreed with a "still running" answer.</param>
/// <param name="ReportsRefuted">Whether a report contradicted one: the model's reports are not used.</param>
internal sealed record ModelTimes(string Id, CompletionObservation[] Waits, IReadOnlyList<ReportedWait> FromReports, int ReportsConfirmed, bool ReportsRefuted)
{
    /// <summary>Waits only, with nothing known about reports.</summary>
    public static ModelTimes Plain(string id, CompletionObservation[] waits) => new(id, waits, [], 0, false);
}

/// <summary>A wait taken from a reported time: its index among a model's waits, and the interval polling saw.</summary>
internal readonly record struct ReportedWait(int Index, CompletionObservation Interval);
