using System.Threading.RateLimiting;

namespace NanoBanana.Batch;

/// <summary>
/// The lease both batch limiters hand out: granted when it has something to do on release, which it does once, on
/// the first dispose. No metadata.
/// </summary>
internal sealed class ReleasingLease(Action? release) : RateLimitLease
{
    private int _released;

    /// <summary>A refused lease.</summary>
    public static ReleasingLease Refused { get; } = new(null);

    public override bool IsAcquired => release is not null;

    public override IEnumerable<string> MetadataNames => [];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = null;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (release is not null && Interlocked.Exchange(ref _released, 1) == 0)
        {
            release();
        }

        base.Dispose(disposing);
    }
}
