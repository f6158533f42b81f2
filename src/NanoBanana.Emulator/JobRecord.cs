using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

/// <summary>How an emulated job ends.</summary>
public enum JobFate
{
    /// <summary>It completes with outputs.</summary>
    Completed,

    /// <summary>It fails (a service error, or content moderation with error code 1200).</summary>
    Failed,

    /// <summary>It never finishes.</summary>
    Never,
}

/// <summary>A prediction held by the emulator, as it stood when it was read (a snapshot).</summary>
public sealed record EmulatedJob
{
    /// <summary>The prediction id.</summary>
    public required string Id { get; init; }

    /// <summary>The model.</summary>
    public required ImageModel Model { get; init; }

    /// <summary>Whether the job came through GPT Proto's unified images API (and is answered in its shape).</summary>
    public bool Unified { get; init; }

    /// <summary>Stopwatch timestamp when the job was accepted.</summary>
    public long CreatedTimestamp { get; init; }

    /// <summary>Stopwatch timestamp when the job finishes (completed or failed).</summary>
    public long CompleteTimestamp { get; init; }

    /// <summary>Wall-clock creation time.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>How the job ends.</summary>
    public JobFate Fate { get; init; }

    /// <summary>The task error code of a failed job.</summary>
    public int? ErrorCode { get; init; }

    /// <summary>Output size.</summary>
    public PixelSize Pixels { get; init; }

    /// <summary>Outputs as base64.</summary>
    public bool Base64 { get; init; }

    /// <summary>The poll URL points to a foreign host.</summary>
    public bool ForeignPollUrl { get; init; }

    /// <summary>The hostile output this job completes with (<see cref="FaultKind.UndecodableOutput"/>, …), if any.</summary>
    public FaultKind? HostileOutput { get; init; }

    /// <summary>Polls received for this job.</summary>
    public int Polls { get; init; }

    /// <summary>Stopwatch timestamp of the first poll (or sync answer) that reported the job terminal; 0 if none yet.</summary>
    public long FirstTerminalReportTimestamp { get; init; }
}

// The emulator's own, mutable record of a job; the public EmulatedJob is a snapshot of it.
internal sealed class JobRecord(string id, ImageModel model, long createdTimestamp, long completeTimestamp, DateTimeOffset createdAt)
{
    private int _polls;

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
        FirstTerminalReportTimestamp = FirstTerminalReportTimestamp,
    };
}
