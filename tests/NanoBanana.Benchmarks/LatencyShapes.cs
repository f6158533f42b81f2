using NanoBanana.Catalog;
using NanoBanana.Emulator;

namespace NanoBanana.Benchmarks;

/// <summary>The latency distributions the polling harness and the simulation measure.</summary>
internal static class LatencyShapes
{
    /// <summary>The tiers each shape is measured for, in the order the tables list them.</summary>
    public static readonly ImageTier[] Tiers = [ImageTier.NanoBanana, ImageTier.NanoBanana2, ImageTier.NanoBananaPro];

    /// <summary>Issue 10's four: the catalog's uniform ranges, lognormal σ 0.45, two modes (30% queued 2–3× longer), and a 1.6× slowdown after 130 jobs.</summary>
    public static readonly (string Name, LatencyProfile Profile)[] Harness =
    [
        ("uniform", new LatencyProfile()),
        ("lognormal σ0.45", new LatencyProfile { Shape = LatencyShape.LogNormal, Sigma = 0.45 }),
        ("two-mode 70/30", new LatencyProfile { Shape = LatencyShape.TwoMode }),
        ("drift ×1.6", new LatencyProfile { Shape = LatencyShape.Drift, DriftAfterJobs = 130 }),
    ];

    /// <summary>
    /// Shapes no goal was set for, as a service unlike our emulator might have them (NB_ADVERSARY=1): near-constant and
    /// very wide latencies, a rare long queue, and a catalog that is wrong about the service from the first job.
    /// </summary>
    public static readonly (string Name, LatencyProfile Profile)[] Adversary =
    [
        ("lognormal σ0.15", new LatencyProfile { Shape = LatencyShape.LogNormal, Sigma = 0.15 }),
        ("lognormal σ0.9", new LatencyProfile { Shape = LatencyShape.LogNormal, Sigma = 0.9 }),
        ("rare queue 90/10 ×5–10", new LatencyProfile { Shape = LatencyShape.TwoMode, SlowShare = 0.1, SlowFactorMin = 5, SlowFactorMax = 10 }),
        ("3× faster than the catalog", new LatencyProfile { Shape = LatencyShape.Drift, DriftAfterJobs = 0, DriftFactor = 1 / 3.0 }),
        ("3× slower than the catalog", new LatencyProfile { Shape = LatencyShape.Drift, DriftAfterJobs = 0, DriftFactor = 3 }),
    ];

    /// <summary>The set to measure: <see cref="Adversary"/> when NB_ADVERSARY is set, else <see cref="Harness"/>.</summary>
    public static (string Name, LatencyProfile Profile)[] Selected =>
        Environment.GetEnvironmentVariable("NB_ADVERSARY") is not null ? Adversary : Harness;

    /// <summary>Whether the profile changes mid-run (a drift after some jobs, not from the first).</summary>
    public static bool Drifts(LatencyProfile profile) => profile.Shape == LatencyShape.Drift && profile.DriftAfterJobs > 0;
}
