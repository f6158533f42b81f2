namespace NanoBanana.Emulator;

/// <summary>Which exchanges a fault applies to.</summary>
public enum FaultTarget
{
    /// <summary>Submits and polls.</summary>
    Any,

    /// <summary>Submits only.</summary>
    Submit,

    /// <summary>Polls only.</summary>
    Poll,

    /// <summary>Uploads of local reference images only (<see cref="Any"/> does not include them).</summary>
    Upload,
}
