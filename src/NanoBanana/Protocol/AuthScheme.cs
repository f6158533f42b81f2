namespace NanoBanana;

/// <summary>How the API key is written into the <c>Authorization</c> header.</summary>
public enum AuthScheme
{
    /// <summary>The raw key: <c>Authorization: sk-…</c> (GPT Proto's examples).</summary>
    Raw,

    /// <summary><c>Authorization: Bearer sk-…</c> (WaveSpeedAI, GPT Proto's auth page).</summary>
    Bearer,
}
