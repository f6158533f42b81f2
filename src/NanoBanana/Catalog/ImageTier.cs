namespace NanoBanana;

/// <summary>The three Nano Banana model tiers.</summary>
public enum ImageTier
{
    /// <summary>Nano Banana: Gemini 2.5 Flash Image. Cheapest, 1K only, good for stylized low-stakes work.</summary>
    NanoBanana,

    /// <summary>Nano Banana 2: Gemini 3.1 Flash Image. The default workhorse: every size, extreme ratios, grounding.</summary>
    NanoBanana2,

    /// <summary>Nano Banana Pro: Gemini 3 Pro Image. Highest quality, typography and complex scenes; slowest and dearest.</summary>
    NanoBananaPro,
}
