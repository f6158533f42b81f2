namespace NanoBanana.Emulator;

/// <summary>The shape of a model's completion times in the emulator.</summary>
public enum LatencyShape
{
    /// <summary>Uniform over the catalog's typical range.</summary>
    Uniform,

    /// <summary>Lognormal with the range's geometric mean as median and <see cref="LatencyProfile.Sigma"/>.</summary>
    LogNormal,

    /// <summary>Two modes: most jobs uniform over the range, <see cref="LatencyProfile.SlowShare"/> queued and 2–3× longer.</summary>
    TwoMode,

    /// <summary>Uniform over the range, then, after <see cref="LatencyProfile.DriftAfterJobs"/> jobs of the model, <see cref="LatencyProfile.DriftFactor"/> times longer.</summary>
    Drift,
}
