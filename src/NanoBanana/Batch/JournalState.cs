namespace NanoBanana.Batch;

/// <summary>Where a job stands in a <see cref="IPredictionJournal"/>.</summary>
public enum JournalState
{
    /// <summary>A worker has taken the job (under a lease) and has not sent anything yet.</summary>
    Claimed,

    /// <summary>The intent is written and the estimate reserved; the submit is on its way or its outcome is unknown.</summary>
    Submitting,

    /// <summary>The service accepted the job: the prediction id and model are recorded.</summary>
    Accepted,

    /// <summary>Done: the image was fetched (and saved, with its path recorded).</summary>
    Completed,

    /// <summary>Finished without an image: refused, invalid or failed. Not retried by a re-run.</summary>
    Failed,

    /// <summary>Not submitted for the budget; a re-run with room in the budget takes it again.</summary>
    Skipped,
}
