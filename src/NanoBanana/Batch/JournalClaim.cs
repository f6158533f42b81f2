namespace NanoBanana.Batch;

/// <summary>What a worker should do with a job it asked the journal for.</summary>
public enum JournalClaim
{
    /// <summary>New (or skipped before): the worker now holds it and may submit it.</summary>
    Submit,

    /// <summary>Accepted earlier: the worker now holds it and waits on its prediction id.</summary>
    Resume,

    /// <summary>A submit was under way when its worker stopped: it may have been accepted. The worker holds it.</summary>
    Unknown,

    /// <summary>Completed already.</summary>
    Done,

    /// <summary>Failed already.</summary>
    Failed,

    /// <summary>Another worker holds a live claim on it.</summary>
    Busy,
}
