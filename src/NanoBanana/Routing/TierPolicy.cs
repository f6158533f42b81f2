using NanoBanana.Catalog;

namespace NanoBanana.Routing;

/// <summary>
/// The deterministic routing procedure of the SDK: hard constraints, pinned tier, preference order by priority and
/// traits, first capable model wins, the rest form the fallback chain.
/// </summary>
public class TierPolicy : ITierPolicy
{
    private readonly ModelCatalog _catalog;
    private readonly ILatencyEstimator? _latency;
    private readonly ImageModel[] _premium;
    private readonly ImageModel[] _stylized;
    private readonly ImageModel[] _default;
    private readonly ImageModel[] _speedCatalog;
    private readonly ImageModel[] _costTieOrder;

    /// <summary>Creates a policy over a catalog.</summary>
    public TierPolicy(ModelCatalog catalog)
        : this(catalog, null)
    {
    }

    /// <summary>Creates a policy over a catalog with live latency estimates for the Speed priority.</summary>
    public TierPolicy(ModelCatalog catalog, ILatencyEstimator? latencyEstimator)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        _latency = latencyEstimator;
        _premium = Order(ImageTier.NanoBananaPro, ImageTier.NanoBanana2, ImageTier.NanoBanana);
        _stylized = Order(ImageTier.NanoBanana, ImageTier.NanoBanana2, ImageTier.NanoBananaPro);
        _default = Order(ImageTier.NanoBanana2, ImageTier.NanoBananaPro, ImageTier.NanoBanana);
        _speedCatalog = Order(ImageTier.NanoBanana2, ImageTier.NanoBanana, ImageTier.NanoBananaPro);
        _costTieOrder = _default;
    }

    /// <summary>The policy over <see cref="ModelCatalog.Default"/> with the rules of the documentation.</summary>
    public static TierPolicy Default { get; } = new(ModelCatalog.Default);

    /// <summary>The catalog this policy routes over.</summary>
    public ModelCatalog Catalog => _catalog;

    /// <inheritdoc />
    public virtual RoutingDecision Route(JobRequirements requirements)
    {
        ArgumentNullException.ThrowIfNull(requirements);
        requirements.Validate();

        var models = _catalog.Models;
        Span<RoutingConstraints> failed = stackalloc RoutingConstraints[3];
        var rejectedCount = 0;
        for (var i = 0; i < models.Count; i++)
        {
            failed[(int)models[i].Tier] = RejectedModel.Check(models[i], requirements);
            if (failed[(int)models[i].Tier] != RoutingConstraints.None)
            {
                rejectedCount++;
            }
        }

        if (rejectedCount == models.Count)
        {
            throw NoCapable(requirements, models, failed, null);
        }

        ImageModel[] order;
        PreferenceBasis basis;
        if (requirements.PinnedTier is { } pinned)
        {
            if (!_catalog.TryGet(pinned, out var pinnedModel) || failed[(int)pinned] != RoutingConstraints.None)
            {
                throw NoCapable(requirements, models, failed, pinned);
            }

            order = [pinnedModel];
            basis = PreferenceBasis.Pinned;
        }
        else
        {
            (order, basis) = PreferenceOrder(requirements);
        }

        var candidates = new ImageModel[order.Length - CountRejected(order, failed)];
        var c = 0;
        foreach (var m in order)
        {
            if (failed[(int)m.Tier] == RoutingConstraints.None)
            {
                candidates[c++] = m;
            }
        }

        var rejected = new (ImageModel, RoutingConstraints)[rejectedCount];
        var r = 0;
        foreach (var m in models)
        {
            if (failed[(int)m.Tier] != RoutingConstraints.None)
            {
                rejected[r++] = (m, failed[(int)m.Tier]);
            }
        }

        candidates[0].TryGetPrice(requirements.Size, out var cost);
        return new RoutingDecision(requirements, basis, order, candidates, rejected, cost);
    }

    private static int CountRejected(ImageModel[] order, ReadOnlySpan<RoutingConstraints> failed)
    {
        var n = 0;
        foreach (var m in order)
        {
            if (failed[(int)m.Tier] != RoutingConstraints.None)
            {
                n++;
            }
        }

        return n;
    }

    private (ImageModel[] Order, PreferenceBasis Basis) PreferenceOrder(JobRequirements r)
    {
        switch (r.Priority)
        {
            case RoutingPriority.Quality:
                return (_premium, PreferenceBasis.Quality);
            case RoutingPriority.Cost:
                return (CostOrder(r.Size), PreferenceBasis.Cost);
            case RoutingPriority.Speed:
                return SpeedOrder();
            default:
                if (r.HasPremiumNeed)
                {
                    return (_premium, PreferenceBasis.BalancedPremium);
                }

                return r.Stylized ? (_stylized, PreferenceBasis.BalancedStylized) : (_default, PreferenceBasis.BalancedDefault);
        }
    }

    private ImageModel[] CostOrder(ImageSize size)
    {
        // Insertion sort over at most three models; ties keep the NB2-first default order.
        var order = (ImageModel[])_costTieOrder.Clone();
        for (var i = 1; i < order.Length; i++)
        {
            var item = order[i];
            var key = PriceOrMax(item, size);
            var j = i - 1;
            while (j >= 0 && PriceOrMax(order[j], size) > key)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = item;
        }

        return order;
    }

    private static decimal PriceOrMax(ImageModel m, ImageSize size) => m.TryGetPrice(size, out var p) ? p : decimal.MaxValue;

    private (ImageModel[], PreferenceBasis) SpeedOrder()
    {
        if (_latency is null)
        {
            return (_speedCatalog, PreferenceBasis.SpeedCatalog);
        }

        var order = (ImageModel[])_speedCatalog.Clone();
        var keys = new TimeSpan[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            if (!_latency.TryGetExpectedLatency(order[i], out keys[i]))
            {
                return (_speedCatalog, PreferenceBasis.SpeedCatalog);
            }
        }

        // Stable insertion sort by latency.
        for (var i = 1; i < order.Length; i++)
        {
            var (m, k) = (order[i], keys[i]);
            var j = i - 1;
            while (j >= 0 && keys[j] > k)
            {
                (order[j + 1], keys[j + 1]) = (order[j], keys[j]);
                j--;
            }

            (order[j + 1], keys[j + 1]) = (m, k);
        }

        return (order, PreferenceBasis.SpeedLive);
    }

    private ImageModel[] Order(params ImageTier[] tiers)
    {
        var list = new List<ImageModel>(tiers.Length);
        foreach (var t in tiers)
        {
            if (_catalog.TryGet(t, out var m))
            {
                list.Add(m);
            }
        }

        return [.. list];
    }

    private static NoCapableModelException NoCapable(JobRequirements r, IReadOnlyList<ImageModel> models, ReadOnlySpan<RoutingConstraints> failed, ImageTier? pinned)
    {
        var rejected = new List<RejectedModel>();
        var capable = new List<string>(); // named when a pinned tier cannot: the fix is one edit away
        foreach (var m in models)
        {
            if (failed[(int)m.Tier] != RoutingConstraints.None)
            {
                rejected.Add(RejectedModel.Create(m, r, failed[(int)m.Tier]));
            }
            else
            {
                capable.Add($"{m.DisplayName} ({m.Tier})");
            }
        }

        var detail = string.Join("; ", rejected.Select(x => x.ToString()));
        string message;
        if (pinned is { } p)
        {
            var instead = capable.Count == 0 ? ""
                : $" {string.Join(" and ", capable)} {(capable.Count == 1 ? "can run it: pin that tier" : "can run it: pin one of them")} instead, or leave the tier unpinned.";
            message = $"The pinned tier {p} cannot run this job. {(rejected.Any(x => x.Model.Tier == p) ? "" : $"{p} is not in the catalog. ")}Ruled out: {(detail.Length == 0 ? "nothing else" : detail)}.{instead}";
        }
        else
        {
            message = $"No Nano Banana model can run this job: {detail}.";
        }

        return new NoCapableModelException(message, rejected);
    }
}
