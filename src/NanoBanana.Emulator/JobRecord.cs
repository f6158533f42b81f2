using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

// The emulator's own, mutable record of a job; the public EmulatedJob is a snapshot of it.
internal sealed class JobRecord(string id, ImageModel model, long createdTimestamp, long completeTimestamp, DateTimeOffset createdAt)
{
    private int _polls;
    private int _completedAnswers;

    public string Id { get; } = id;

    public ImageModel Model { get; } = model;

    public long CreatedTimestamp { get; } = createdTimestamp;

    public long CompleteTimestamp { get; } = completeTimestamp;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public bool Unified { get; set; }

    public JobFate Fate { get; set; }

    public int? ErrorCode { get; set; }

    public PixelSize Pixels { get; set; }

    public string Prompt { get; set; } = "";

    public ImageSize Size { get; set; }

    public AspectRatio Ratio { get; set; }

    public bool Base64 { get; set; }

    public bool ForeignPollUrl { get; set; }

    public FaultKind? HostileOutput { get; set; }

    /// <summary>The key the caller sent with the submit, for <see cref="FaultKind.EchoKey"/>.</summary>
    public string? EchoedKey { get; set; }

    /// <summary>Answers about this job carry absurd numbers (<see cref="FaultKind.AbsurdNumbers"/>).</summary>
    public bool AbsurdNumbers { get; set; }

    /// <summary>A scripted reply spoke for this job: its outputs are served whatever its emulated timing.</summary>
    public bool Scripted { get; set; }

    public int Polls => Volatile.Read(ref _polls);

    public long FirstTerminalReportTimestamp { get; set; }

    /// <summary>The status text of a finished job.</summary>
    public string FateText => Fate == JobFate.Completed ? "completed" : "failed";

    public int CountPoll() => Interlocked.Increment(ref _polls);

    public int CompletedAnswers => Volatile.Read(ref _completedAnswers);

    /// <summary>Counts an answer that reports the job completed, and returns how many have (this one included).</summary>
    public int CountCompletedAnswer() => Interlocked.Increment(ref _completedAnswers);

    public bool IsDone(long now) => Fate != JobFate.Never && now >= CompleteTimestamp;

    public EmulatedJob ToView() => new()
    {
        Id = Id,
        Model = Model,
        Unified = Unified,
        CreatedTimestamp = CreatedTimestamp,
        CompleteTimestamp = CompleteTimestamp,
        CreatedAt = CreatedAt,
        Fate = Fate,
        ErrorCode = ErrorCode,
        Pixels = Pixels,
        Base64 = Base64,
        ForeignPollUrl = ForeignPollUrl,
        HostileOutput = HostileOutput,
        Polls = Polls,
        CompletedAnswers = CompletedAnswers,
        FirstTerminalReportTimestamp = FirstTerminalReportTimestamp,
    };
}
