namespace NanoBanana.Protocol;

/// <summary>The output file format.</summary>
public enum OutputFormat
{
    /// <summary>PNG (default).</summary>
    Png,

    /// <summary>JPEG.</summary>
    Jpeg,
}
