namespace NanoBanana.Catalog;

/// <summary>Output dimensions in pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct PixelSize(int Width, int Height)
{
    /// <summary>"1376x768".</summary>
    public override string ToString() => $"{Width}x{Height}";
}
