namespace NanoBanana;

/// <summary>What the tier policy optimises for when several models can do a job.</summary>
public enum RoutingPriority
{
    /// <summary>Follow the job's traits: premium needs go to Pro, stylized work to Nano Banana, the rest to Nano Banana 2.</summary>
    Balanced,

    /// <summary>Best quality first: Pro, Nano Banana 2, Nano Banana.</summary>
    Quality,

    /// <summary>Lowest price at the requested size first.</summary>
    Cost,

    /// <summary>Lowest expected latency first (live measurements when available).</summary>
    Speed,
}
