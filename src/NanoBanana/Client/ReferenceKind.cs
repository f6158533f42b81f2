namespace NanoBanana;

/// <summary>What a reference image is for; face and object references count against separate model limits.</summary>
public enum ReferenceKind
{
    /// <summary>Any other input image (style, background, the image to edit).</summary>
    Other,

    /// <summary>A face / portrait that must stay on-model.</summary>
    Face,

    /// <summary>An object to reproduce at high fidelity.</summary>
    Object,
}
