using Moq;
using NanoBanana.Catalog;
using NanoBanana.Routing;

namespace NanoBanana.Tests;

public class RoutingTests
{
    private static readonly TierPolicy Policy = TierPolicy.Default;
    private const ImageTier NB = ImageTier.NanoBanana;
    private const ImageTier NB2 = ImageTier.NanoBanana2;
    private const ImageTier Pro = ImageTier.NanoBananaPro;

    private static ImageTier[] Chain(RoutingDecision d) => [d.Model.Tier, .. d.Fallbacks.Select(f => f.Tier)];

    [Theory]
    [InlineData(4, new[] { NB2, Pro })]
    [InlineData(5, new[] { Pro })]
    public void Face_reference_boundaries(int faces, ImageTier[] expected)
    {
        var d = Policy.Route(new JobRequirements { FaceCount = faces });
        Assert.Equal(expected, Chain(d));
        Assert.Contains(d.Rejected, r => r.Model.Tier == NB && r.Reason.Contains($"{faces} face references exceed its limit of 3"));
    }

    [Fact]
    public void Six_faces_fit_no_model_and_the_error_names_every_limit()
    {
        var ex = Assert.Throws<NoCapableModelException>(() => Policy.Route(new JobRequirements { FaceCount = 6 }));
        Assert.Equal(3, ex.Rejected.Count);
        Assert.Contains("Nano Banana 2: 6 face references exceed its limit of 4", ex.Message);
        Assert.Contains("Nano Banana Pro: 6 face references exceed its limit of 5", ex.Message);
        Assert.Contains("Nano Banana: 6 face references exceed its limit of 3", ex.Message);
    }

    [Theory]
    [InlineData(6, new[] { NB2, Pro })]
    [InlineData(7, new[] { NB2 })]
    [InlineData(10, new[] { NB2 })]
    [InlineData(11, new ImageTier[0])]
    public void Object_reference_boundaries(int objects, ImageTier[] expected)
    {
        var req = new JobRequirements { ObjectCount = objects };
        if (expected.Length == 0)
        {
            var ex = Assert.Throws<NoCapableModelException>(() => Policy.Route(req));
            Assert.Contains("11 object references exceed its limit of 10", ex.Message);
            return;
        }

        Assert.Equal(expected, Chain(Policy.Route(req)));
    }

    [Theory]
    [InlineData(3, new[] { NB2, Pro, NB })]
    [InlineData(4, new[] { NB2, Pro })]
    [InlineData(14, new[] { NB2, Pro })]
    [InlineData(15, new ImageTier[0])]
    public void Total_reference_boundaries(int refs, ImageTier[] expected)
    {
        var req = new JobRequirements { ReferenceImageCount = refs };
        if (expected.Length == 0)
        {
            var ex = Assert.Throws<NoCapableModelException>(() => Policy.Route(req));
            Assert.Contains("15 reference images exceed its limit of 14", ex.Message);
            return;
        }

        Assert.Equal(expected, Chain(Policy.Route(req)));
    }

    public static TheoryData<string, ImageTier> RatiosByModel()
    {
        var data = new TheoryData<string, ImageTier>();
        foreach (var r in AspectRatio.All)
        {
            foreach (var t in Enum.GetValues<ImageTier>())
            {
                data.Add(r.ToString(), t);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RatiosByModel))]
    public void Every_ratio_on_every_model(string ratioText, ImageTier tier)
    {
        var ratio = AspectRatio.Parse(ratioText);
        var extreme = AspectRatio.Extreme.Contains(ratio);
        var req = new JobRequirements { AspectRatio = ratio, PinnedTier = tier };
        if (extreme && tier != NB2)
        {
            var ex = Assert.Throws<NoCapableModelException>(() => Policy.Route(req));
            Assert.Contains($"{ratioText} aspect ratio not supported", ex.Message);
        }
        else
        {
            Assert.Equal(tier, Policy.Route(req).Model.Tier);
        }
    }

    [Theory]
    [InlineData("0.5K", NB, false)]
    [InlineData("0.5K", NB2, true)]
    [InlineData("0.5K", Pro, false)]
    [InlineData("1K", NB, true)]
    [InlineData("1K", NB2, true)]
    [InlineData("1K", Pro, true)]
    [InlineData("2K", NB, false)]
    [InlineData("2K", NB2, true)]
    [InlineData("2K", Pro, true)]
    [InlineData("4K", NB, false)]
    [InlineData("4K", NB2, true)]
    [InlineData("4K", Pro, true)]
    public void Every_size_on_every_model(string size, ImageTier tier, bool capable)
    {
        var req = new JobRequirements { Size = ImageSize.Parse(size), PinnedTier = tier };
        if (capable)
        {
            var d = Policy.Route(req);
            Assert.Equal(tier, d.Model.Tier);
            Assert.Empty(d.Fallbacks);
            Assert.Equal(ModelCatalog.Default[tier].PricesUsd[ImageSize.Parse(size)], d.EstimatedCostUsd);
        }
        else
        {
            var ex = Assert.Throws<NoCapableModelException>(() => Policy.Route(req));
            Assert.Contains($"The pinned tier {tier} cannot run this job", ex.Message);
            Assert.Contains($"{size} output not supported", ex.Message);
            var capableTiers = ModelCatalog.Default.Models.Where(m => m.Supports(ImageSize.Parse(size))).Select(m => $"{m.DisplayName} ({m.Tier})");
            Assert.EndsWith($" {string.Join(" and ", capableTiers)} can run it: pin {(capableTiers.Count() == 1 ? "that tier" : "one of them")} instead, or leave the tier unpinned.", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("1K", 0.067, NB2)]        // exactly NB2's price: inclusive
    [InlineData("1K", 0.0669, NB)]        // just below: NB2 and Pro ruled out, NB fits
    [InlineData("2K", 0.101, NB2)]
    [InlineData("4K", 0.24, Pro)]         // 4K is a premium need: Pro at exactly its price
    [InlineData("4K", 0.2399, NB2)]       // just below Pro's price
    public void Cost_caps_at_and_just_below_a_price(string size, double cap, ImageTier expected)
    {
        var d = Policy.Route(new JobRequirements { Size = ImageSize.Parse(size), MaxCostUsd = (decimal)cap });
        Assert.Equal(expected, d.Model.Tier);
        Assert.True(d.EstimatedCostUsd <= (decimal)cap);
    }

    [Fact]
    public void Cost_cap_below_every_price_names_each_price()
    {
        var ex = Assert.Throws<NoCapableModelException>(() => Policy.Route(new JobRequirements { Size = ImageSize.TwoK, MaxCostUsd = 0.1m }));
        Assert.Contains("Nano Banana 2: $0.101 at 2K exceeds the cost cap of $0.1", ex.Message);
        Assert.Contains("Nano Banana: 2K output not supported", ex.Message);
        Assert.All(ex.Rejected, r => Assert.NotEqual(RoutingConstraints.None, r.Constraints));
    }

    [Fact]
    public void Pinned_tier_is_honoured_when_capable_even_against_the_preference()
    {
        var d = Policy.Route(new JobRequirements { Stylized = true, PinnedTier = Pro });
        Assert.Equal(Pro, d.Model.Tier);
        Assert.Empty(d.Fallbacks);
        Assert.Equal(PreferenceBasis.Pinned, d.Basis);
        Assert.Contains("pinned", d.Reasons[0]);
    }

    [Fact]
    public void Pinned_tier_that_is_not_capable_fails_with_the_reason()
    {
        var ex = Assert.Throws<NoCapableModelException>(() => Policy.Route(new JobRequirements { FaceCount = 5, PinnedTier = NB2 }));
        Assert.Contains("NanoBanana2", ex.Message);
        Assert.Contains("5 face references exceed its limit of 4", ex.Message);
    }

    [Theory]
    [InlineData(RoutingPriority.Balanced, "1K", new[] { NB2, Pro, NB })]
    [InlineData(RoutingPriority.Quality, "1K", new[] { Pro, NB2, NB })]
    [InlineData(RoutingPriority.Cost, "1K", new[] { NB, NB2, Pro })]
    [InlineData(RoutingPriority.Cost, "2K", new[] { NB2, Pro })]
    [InlineData(RoutingPriority.Cost, "4K", new[] { NB2, Pro })]
    [InlineData(RoutingPriority.Speed, "1K", new[] { NB2, NB, Pro })]
    [InlineData(RoutingPriority.Quality, "0.5K", new[] { NB2 })]
    public void Every_priority(RoutingPriority priority, string size, ImageTier[] expected)
    {
        Assert.Equal(expected, Chain(Policy.Route(new JobRequirements { Priority = priority, Size = ImageSize.Parse(size) })));
    }

    [Fact]
    public void Cost_ties_put_Nano_Banana_2_first()
    {
        var options = new ModelCatalogOptions();
        options.Models["NanoBananaPro"] = new ModelOverrideOptions { Prices = new() { ["1K"] = 0.067m, ["2K"] = 0.1m, ["4K"] = 0.2m } };
        options.Models["NanoBanana"] = new ModelOverrideOptions { Prices = new() { ["1K"] = 0.067m } };
        var d = new TierPolicy(ModelCatalog.Create(options)).Route(new JobRequirements { Priority = RoutingPriority.Cost });
        Assert.Equal(NB2, d.Model.Tier);
    }

    [Fact]
    public void Speed_uses_live_latency_when_every_candidate_has_one()
    {
        var live = new Mock<ILatencyEstimator>();
        var pro = TimeSpan.FromSeconds(3);
        var nb = TimeSpan.FromSeconds(5);
        var nb2 = TimeSpan.FromSeconds(9);
        live.Setup(l => l.TryGetExpectedLatency(It.Is<ImageModel>(m => m.Tier == Pro), out pro)).Returns(true);
        live.Setup(l => l.TryGetExpectedLatency(It.Is<ImageModel>(m => m.Tier == NB), out nb)).Returns(true);
        live.Setup(l => l.TryGetExpectedLatency(It.Is<ImageModel>(m => m.Tier == NB2), out nb2)).Returns(true);
        var d = new TierPolicy(ModelCatalog.Default, live.Object).Route(new JobRequirements { Priority = RoutingPriority.Speed });
        Assert.Equal(new[] { Pro, NB, NB2 }, Chain(d));
        Assert.Equal(PreferenceBasis.SpeedLive, d.Basis);
    }

    [Fact]
    public void Speed_falls_back_to_catalog_order_without_live_data_for_every_model()
    {
        var live = new Mock<ILatencyEstimator>();
        var fast = TimeSpan.FromSeconds(1);
        live.Setup(l => l.TryGetExpectedLatency(It.Is<ImageModel>(m => m.Tier == Pro), out fast)).Returns(true);
        var d = new TierPolicy(ModelCatalog.Default, live.Object).Route(new JobRequirements { Priority = RoutingPriority.Speed });
        Assert.Equal(new[] { NB2, NB, Pro }, Chain(d));
        Assert.Equal(PreferenceBasis.SpeedCatalog, d.Basis);
    }

    [Theory]
    [InlineData(true, false, false, "1K", NB)]    // stylized
    [InlineData(false, true, false, "1K", Pro)]   // typography
    [InlineData(false, false, true, "1K", Pro)]   // complex composition
    [InlineData(false, false, false, "4K", Pro)]  // 4K deliverable
    [InlineData(true, true, false, "1K", Pro)]    // premium need beats stylized
    [InlineData(false, false, false, "0.5K", NB2)] // thumbnail
    [InlineData(false, false, false, "1K", NB2)]  // default
    public void Balanced_traits(bool stylized, bool typography, bool complex, string size, ImageTier expected)
    {
        var d = Policy.Route(new JobRequirements { Stylized = stylized, TypographyCritical = typography, ComplexComposition = complex, Size = ImageSize.Parse(size) });
        Assert.Equal(expected, d.Model.Tier);
    }

    [Fact]
    public void Banner_1x8_with_critical_typography_goes_to_NB2_and_says_why()
    {
        var d = Policy.Route(new JobRequirements { AspectRatio = AspectRatio.Parse("1:8"), TypographyCritical = true });
        Assert.Equal(NB2, d.Model.Tier);
        Assert.Empty(d.Fallbacks);
        Assert.Contains(d.Reasons, r => r.Contains("Nano Banana Pro would be preferred") && r.Contains("1:8 aspect ratio not supported"));
        var text = d.Explain();
        Assert.Contains("Chosen: Nano Banana 2", text);
        Assert.Contains("typography-critical", text);
        Assert.Contains("Ruled out:" + Environment.NewLine + "  - Nano Banana", text, StringComparison.Ordinal); // no trailing space
        Assert.Contains("Nano Banana: 1:8 aspect ratio not supported", text);
        Assert.DoesNotContain(" " + Environment.NewLine, text, StringComparison.Ordinal);
        Assert.Equal(text, d.ToString());
    }

    [Fact]
    public void Image_search_grounding_only_fits_NB2()
    {
        Assert.Equal(new[] { NB2 }, Chain(Policy.Route(new JobRequirements { ImageSearchGrounding = true })));
    }

    [Fact]
    public void Five_faces_and_grounding_fit_no_model_and_the_error_names_both_limits()
    {
        var ex = Assert.Throws<NoCapableModelException>(() => Policy.Route(new JobRequirements { FaceCount = 5, ImageSearchGrounding = true }));
        Assert.Contains("Nano Banana 2: 5 face references exceed its limit of 4", ex.Message);
        Assert.Contains("Nano Banana Pro: image search grounding not supported", ex.Message);
        Assert.Contains("Nano Banana: 5 face references exceed its limit of 3", ex.Message);
    }

    [Theory]
    [InlineData("FaceCount")]
    [InlineData("ObjectCount")]
    [InlineData("ReferenceImageCount")]
    [InlineData("ReferenceTotal")]
    [InlineData("MaxCostUsd")]
    [InlineData("MaxCostUsdNegative")]
    public void Invalid_requirements_name_the_property(string what)
    {
        var req = what switch
        {
            "FaceCount" => new JobRequirements { FaceCount = -1 },
            "ObjectCount" => new JobRequirements { ObjectCount = -2 },
            "ReferenceImageCount" => new JobRequirements { ReferenceImageCount = -1 },
            "ReferenceTotal" => new JobRequirements { FaceCount = 2, ObjectCount = 2, ReferenceImageCount = 3 },
            "MaxCostUsd" => new JobRequirements { MaxCostUsd = 0m },
            _ => new JobRequirements { MaxCostUsd = -0.01m },
        };
        var ex = Assert.ThrowsAny<ArgumentException>(() => Policy.Route(req));
        var expected = what switch { "ReferenceTotal" => "ReferenceImageCount", "MaxCostUsdNegative" => "MaxCostUsd", _ => what };
        Assert.Equal(expected, ex.ParamName);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Estimated_cost_and_reasons_are_filled()
    {
        var d = Policy.Route(new JobRequirements { Size = ImageSize.TwoK });
        Assert.Equal(0.101m, d.EstimatedCostUsd);
        Assert.NotEmpty(d.Reasons);
        Assert.Contains("Nano Banana 2 is the first capable model", d.Reasons[^1]);
    }

    // Property-style check over generated requirements: the chosen model satisfies every hard constraint (checked by an
    // independent oracle here), never appears among the rejected, fallbacks contain no rejected model, and every
    // catalog model is accounted for exactly once.
    [Fact]
    public void Generated_requirements_always_route_to_a_capable_model()
    {
        var random = new Random(20261121);
        int routed = 0, failed = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var faces = random.Next(0, 7);
            var objects = random.Next(0, 12);
            var req = new JobRequirements
            {
                Size = ImageSize.All[random.Next(4)],
                AspectRatio = AspectRatio.All[random.Next(14)],
                FaceCount = faces,
                ObjectCount = objects,
                ReferenceImageCount = random.Next(3) == 0 ? 0 : faces + objects + random.Next(0, 5),
                TypographyCritical = random.Next(4) == 0,
                ComplexComposition = random.Next(5) == 0,
                ImageSearchGrounding = random.Next(6) == 0,
                Stylized = random.Next(4) == 0,
                Priority = (RoutingPriority)random.Next(4),
                MaxCostUsd = random.Next(3) == 0 ? (decimal)(0.03 + (random.NextDouble() * 0.25)) : null,
                PinnedTier = random.Next(6) == 0 ? (ImageTier)random.Next(3) : null,
            };
            var capable = ModelCatalog.Default.Models.Where(m => Oracle(m, req)).ToList();
            if (req.PinnedTier is { } pin)
            {
                capable = capable.Where(m => m.Tier == pin).ToList();
            }

            if (capable.Count == 0)
            {
                Assert.Throws<NoCapableModelException>(() => Policy.Route(req));
                failed++;
                continue;
            }

            var d = Policy.Route(req);
            routed++;
            Assert.True(Oracle(d.Model, req));
            Assert.Contains(d.Model, capable);
            Assert.DoesNotContain(d.Rejected, r => r.Model == d.Model);
            Assert.All(d.Fallbacks, f => Assert.DoesNotContain(d.Rejected, r => r.Model == f));
            Assert.All(d.Fallbacks, f => Assert.True(Oracle(f, req)));
            Assert.All(d.Rejected, r => Assert.False(Oracle(r.Model, req)));
            Assert.True(d.EstimatedCostUsd <= (req.MaxCostUsd ?? decimal.MaxValue));
            if (req.PinnedTier is null)
            {
                Assert.Equal(3, 1 + d.Fallbacks.Count + d.Rejected.Count);
            }
        }

        Assert.True(routed > 1000 && failed > 100, $"generator should cover both outcomes: {routed} routed, {failed} failed");
    }

    private static bool Oracle(ImageModel m, JobRequirements r)
    {
        var total = r.ReferenceImageCount == 0 ? r.FaceCount + r.ObjectCount : r.ReferenceImageCount;
        return m.Sizes.Contains(r.Size)
            && m.AspectRatios.Contains(r.AspectRatio)
            && total <= m.MaxReferenceImages
            && r.ObjectCount <= m.MaxObjectReferences
            && r.FaceCount <= m.MaxFaceReferences
            && (!r.ImageSearchGrounding || m.SupportsImageSearchGrounding)
            && (r.MaxCostUsd is null || m.PricesUsd[r.Size] <= r.MaxCostUsd);
    }
}
