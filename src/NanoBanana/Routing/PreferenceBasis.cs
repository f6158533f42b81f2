namespace NanoBanana.Routing;

/// <summary>Why the preference order is what it is.</summary>
public enum PreferenceBasis
{
    /// <summary>Balanced priority, the job has a premium need (typography, complex composition or 4K): Pro, NB2, NB.</summary>
    BalancedPremium,

    /// <summary>Balanced priority, stylized / low-stakes job: NB, NB2, Pro.</summary>
    BalancedStylized,

    /// <summary>Balanced priority, ordinary job: NB2, Pro, NB.</summary>
    BalancedDefault,

    /// <summary>Quality priority: Pro, NB2, NB.</summary>
    Quality,

    /// <summary>Cost priority: ascending price at the requested size.</summary>
    Cost,

    /// <summary>Speed priority from live latency measurements.</summary>
    SpeedLive,

    /// <summary>Speed priority from the catalog order (no live measurements yet): NB2, NB, Pro.</summary>
    SpeedCatalog,

    /// <summary>The caller pinned a tier.</summary>
    Pinned,
}
