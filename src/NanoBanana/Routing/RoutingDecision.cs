using System.Globalization;
using System.Text;
using NanoBanana.Catalog;

namespace NanoBanana.Routing;

/// <summary>
/// The tier policy's answer for one job: the chosen model, the fallback chain, what was ruled out and why,
/// the reasons for the choice and the estimated cost. <see cref="ToString"/> gives a readable explanation.
/// </summary>
public sealed class RoutingDecision
{
    private readonly ImageModel[] _order;
    private readonly (ImageModel Model, RoutingConstraints Failed)[] _rejectedRaw;
    private IReadOnlyList<RejectedModel>? _rejected;
    private IReadOnlyList<string>? _reasons;

    internal RoutingDecision(JobRequirements requirements, PreferenceBasis basis, ImageModel[] order, ImageModel[] candidatesInOrder, (ImageModel, RoutingConstraints)[] rejected, decimal estimatedCostUsd)
    {
        Requirements = requirements;
        Basis = basis;
        _order = order;
        Model = candidatesInOrder[0];
        Fallbacks = basis == PreferenceBasis.Pinned ? [] : candidatesInOrder.AsSpan(1).ToArray();
        _rejectedRaw = rejected;
        EstimatedCostUsd = estimatedCostUsd;
    }

    /// <summary>The requirements that were routed.</summary>
    public JobRequirements Requirements { get; }

    /// <summary>The chosen model.</summary>
    public ImageModel Model { get; }

    /// <summary>Capable models to try next, in preference order (empty when the tier was pinned).</summary>
    public IReadOnlyList<ImageModel> Fallbacks { get; }

    /// <summary>Models ruled out by a hard constraint, with the reasons.</summary>
    public IReadOnlyList<RejectedModel> Rejected => _rejected ??= _rejectedRaw.Select(x => RejectedModel.Create(x.Model, Requirements, x.Failed)).ToArray();

    /// <summary>The rule that set the preference order.</summary>
    public PreferenceBasis Basis { get; }

    /// <summary>The preference order the rule produced, before hard constraints removed anything.</summary>
    public IReadOnlyList<ImageModel> PreferenceOrder => _order;

    /// <summary>Human-readable reasons for the choice, most important first.</summary>
    public IReadOnlyList<string> Reasons => _reasons ??= BuildReasons();

    /// <summary>The chosen model's catalog price at the requested size, in USD per image.</summary>
    public decimal EstimatedCostUsd { get; }

    /// <summary>A multi-line explanation: chosen model, why, what else was considered, what was ruled out, cost.</summary>
    public string Explain()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"Chosen: {Model.DisplayName} ({Model.Id}), estimated ${EstimatedCostUsd} per image at {Requirements.Size} {Requirements.AspectRatio}").AppendLine();
        sb.AppendLine("Why:");
        foreach (var reason in Reasons)
        {
            sb.Append("  - ").AppendLine(reason);
        }

        sb.Append("Fallbacks: ").AppendLine(Fallbacks.Count == 0 ? "none" : string.Join(" -> ", Fallbacks.Select(f => f.DisplayName)));
        sb.AppendLine(Rejected.Count == 0 ? "Ruled out: none" : "Ruled out:");
        foreach (var r in Rejected)
        {
            sb.Append("  - ").AppendLine(r.ToString());
        }

        return sb.ToString().TrimEnd();
    }

    /// <inheritdoc cref="Explain"/>
    public override string ToString() => Explain();

    private string[] BuildReasons()
    {
        var r = Requirements;
        var reasons = new List<string>();
        var order = string.Join(", ", _order.Select(m => m.DisplayName));
        switch (Basis)
        {
            case PreferenceBasis.Pinned:
                reasons.Add($"The caller pinned {Model.DisplayName} and it meets every hard constraint; pinned jobs have no fallbacks.");
                break;
            case PreferenceBasis.BalancedPremium:
                var needs = new List<string>();
                if (r.TypographyCritical)
                {
                    needs.Add("typography-critical");
                }

                if (r.ComplexComposition)
                {
                    needs.Add("complex composition");
                }

                if (r.Size == ImageSize.FourK)
                {
                    needs.Add("4K deliverable");
                }

                reasons.Add($"Balanced priority with a premium need ({string.Join(", ", needs)}): a quality miss costs more than the model, so the order is {order}.");
                break;
            case PreferenceBasis.BalancedStylized:
                reasons.Add($"Balanced priority, stylized / low-stakes work: the original model is good enough, so the order is {order}.");
                break;
            case PreferenceBasis.BalancedDefault:
                reasons.Add($"Balanced priority, no premium need: default to Nano Banana 2, so the order is {order}.");
                break;
            case PreferenceBasis.Quality:
                reasons.Add($"Quality priority: the order is {order}.");
                break;
            case PreferenceBasis.Cost:
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"Cost priority: cheapest at {r.Size} first: {string.Join(", ", _order.Select(m => m.TryGetPrice(r.Size, out var p) ? $"{m.DisplayName} ${p}" : $"{m.DisplayName} (no {r.Size})"))}."));
                break;
            case PreferenceBasis.SpeedLive:
                reasons.Add($"Speed priority from live latency measurements: the order is {order}.");
                break;
            case PreferenceBasis.SpeedCatalog:
                reasons.Add($"Speed priority without live measurements yet: catalog order {order}.");
                break;
        }

        foreach (var preferred in _order)
        {
            if (preferred == Model)
            {
                break;
            }

            var rejected = Rejected.FirstOrDefault(x => x.Model == preferred);
            if (rejected is not null)
            {
                reasons.Add($"{preferred.DisplayName} would be preferred but a hard constraint rules it out: {rejected.Reason}.");
            }
        }

        reasons.Add($"{Model.DisplayName} is the first capable model in that order.");
        return [.. reasons];
    }
}
