using System.Globalization;
using NanoBanana.Catalog;

namespace NanoBanana.Routing;

/// <summary>A model the policy ruled out, and why.</summary>
/// <param name="Model">The model.</param>
/// <param name="Reason">Every constraint it failed, in words.</param>
public sealed record RejectedModel(ImageModel Model, string Reason)
{
    /// <summary>The failed constraints as flags.</summary>
    public RoutingConstraints Constraints { get; init; }

    /// <summary>"Nano Banana 2: 5 face references exceed its limit of 4".</summary>
    public override string ToString() => $"{Model.DisplayName}: {Reason}";

    internal static RoutingConstraints Check(ImageModel m, JobRequirements r)
    {
        var failed = RoutingConstraints.None;
        if (!m.Supports(r.Size))
        {
            failed |= RoutingConstraints.Size;
        }

        if (!m.Supports(r.AspectRatio))
        {
            failed |= RoutingConstraints.AspectRatio;
        }

        if (r.EffectiveReferenceCount > m.MaxReferenceImages)
        {
            failed |= RoutingConstraints.ReferenceImages;
        }

        if (r.ObjectCount > m.MaxObjectReferences)
        {
            failed |= RoutingConstraints.ObjectReferences;
        }

        if (r.FaceCount > m.MaxFaceReferences)
        {
            failed |= RoutingConstraints.FaceReferences;
        }

        if (r.ImageSearchGrounding && !m.SupportsImageSearchGrounding)
        {
            failed |= RoutingConstraints.ImageSearchGrounding;
        }

        if (r.MaxCostUsd is { } cap && m.TryGetPrice(r.Size, out var price) && price > cap)
        {
            failed |= RoutingConstraints.CostCap;
        }

        return failed;
    }

    internal static RejectedModel Create(ImageModel m, JobRequirements r, RoutingConstraints failed)
    {
        var parts = new List<string>(2);
        var inv = CultureInfo.InvariantCulture;
        if ((failed & RoutingConstraints.Size) != 0)
        {
            parts.Add($"{r.Size} output not supported (sizes: {string.Join(", ", m.Sizes)})");
        }

        if ((failed & RoutingConstraints.AspectRatio) != 0)
        {
            parts.Add($"{r.AspectRatio} aspect ratio not supported");
        }

        if ((failed & RoutingConstraints.ObjectReferences) != 0)
        {
            parts.Add($"{r.ObjectCount} object references exceed its limit of {m.MaxObjectReferences}");
        }

        if ((failed & RoutingConstraints.FaceReferences) != 0)
        {
            parts.Add($"{r.FaceCount} face references exceed its limit of {m.MaxFaceReferences}");
        }

        if ((failed & RoutingConstraints.ReferenceImages) != 0)
        {
            parts.Add($"{r.EffectiveReferenceCount} reference images exceed its limit of {m.MaxReferenceImages}");
        }

        if ((failed & RoutingConstraints.ImageSearchGrounding) != 0)
        {
            parts.Add("image search grounding not supported");
        }

        if ((failed & RoutingConstraints.CostCap) != 0)
        {
            m.TryGetPrice(r.Size, out var price);
            parts.Add(string.Create(inv, $"${price} at {r.Size} exceeds the cost cap of ${r.MaxCostUsd}"));
        }

        return new RejectedModel(m, string.Join(", ", parts)) { Constraints = failed };
    }
}
