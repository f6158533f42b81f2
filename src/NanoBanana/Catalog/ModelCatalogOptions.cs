namespace NanoBanana.Catalog;

/// <summary>
/// Overrides of the built-in catalog, usually bound from configuration (<c>NanoBanana:Catalog</c>).
/// Anything left unset keeps the default of the built-in catalog.
/// </summary>
public sealed class ModelCatalogOptions
{
    /// <summary>Overrides keyed by tier name: <c>NanoBanana</c>, <c>NanoBanana2</c>, <c>NanoBananaPro</c>.</summary>
    public Dictionary<string, ModelOverrideOptions> Models { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Tiers to leave out of the catalog (for a provider that does not offer them).</summary>
    public List<string> Disabled { get; } = [];

    /// <summary>A copy that later changes to this object do not reach.</summary>
    internal ModelCatalogOptions Snapshot()
    {
        var copy = new ModelCatalogOptions();
        foreach (var (tier, model) in Models)
        {
            copy.Models[tier] = model.Snapshot();
        }

        copy.Disabled.AddRange(Disabled);
        return copy;
    }
}
