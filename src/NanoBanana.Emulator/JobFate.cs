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
