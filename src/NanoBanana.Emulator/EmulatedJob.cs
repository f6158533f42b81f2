using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

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

    /// <summary>Answers that reported this job completed: a sync answer, polls and webhook deliveries.</summary>
    public int CompletedAnswers { get; init; }

    /// <summary>Stopwatch timestamp of the first poll (or sync answer) that reported the job terminal; 0 if none yet.</summary>
    public long FirstTerminalReportTimestamp { get; init; }
}
