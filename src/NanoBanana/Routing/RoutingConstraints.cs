namespace NanoBanana.Routing;

/// <summary>The hard constraints a model can fail. Flags: a model may fail several.</summary>
[Flags]
public enum RoutingConstraints
{
    /// <summary>No constraint failed.</summary>
    None = 0,

    /// <summary>The model does not offer the requested size.</summary>
    Size = 1,

    /// <summary>The model does not offer the requested aspect ratio.</summary>
    AspectRatio = 2,

    /// <summary>Too many reference images in total.</summary>
    ReferenceImages = 4,

    /// <summary>Too many object references.</summary>
    ObjectReferences = 8,

    /// <summary>Too many face references.</summary>
    FaceReferences = 16,

    /// <summary>Image-search grounding needed but not supported.</summary>
    ImageSearchGrounding = 32,

    /// <summary>The price at the requested size exceeds the cost cap.</summary>
    CostCap = 64,
}
