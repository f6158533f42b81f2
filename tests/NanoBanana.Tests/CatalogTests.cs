using NanoBanana.Catalog;

namespace NanoBanana.Tests;

public class CatalogTests
{
    private static readonly ModelCatalog Catalog = ModelCatalog.Default;

    [Fact]
    public void Default_catalog_has_the_documented_ids_limits_and_prices()
    {
        var nb = Catalog[ImageTier.NanoBanana];
        var nb2 = Catalog[ImageTier.NanoBanana2];
        var pro = Catalog[ImageTier.NanoBananaPro];
        Assert.Equal("gemini-2.5-flash-image", nb.Id);
        Assert.Equal("gemini-3.1-flash-image-preview", nb2.Id);
        Assert.Equal("gemini-3-pro-image-preview", pro.Id);
        Assert.Equal((3, 3, 3), (nb.MaxReferenceImages, nb.MaxObjectReferences, nb.MaxFaceReferences));
        Assert.Equal((14, 10, 4), (nb2.MaxReferenceImages, nb2.MaxObjectReferences, nb2.MaxFaceReferences));
        Assert.Equal((14, 6, 5), (pro.MaxReferenceImages, pro.MaxObjectReferences, pro.MaxFaceReferences));
        Assert.True(nb2.SupportsImageSearchGrounding);
        Assert.False(pro.SupportsImageSearchGrounding);
        Assert.Equal(0.039m, nb.PricesUsd[ImageSize.OneK]);
        Assert.Equal([0.045m, 0.067m, 0.101m, 0.151m], ImageSize.All.Select(s => nb2.PricesUsd[s]));
        Assert.Equal(0.134m, pro.PricesUsd[ImageSize.TwoK]);
        Assert.Equal(0.24m, pro.PricesUsd[ImageSize.FourK]);
        Assert.Equal(TimeSpan.FromSeconds(10), pro.TypicalLatencyMin);
        Assert.Equal("nano-banana-2", nb2.WaveSpeedSlug);
    }

    [Theory]
    [InlineData(ImageTier.NanoBanana2, "0.5K", "21:9", 792, 336)]
    [InlineData(ImageTier.NanoBanana2, "4K", "8:1", 12288, 1536)]
    [InlineData(ImageTier.NanoBanana2, "1K", "16:9", 1376, 768)]
    [InlineData(ImageTier.NanoBananaPro, "2K", "2:3", 1696, 2528)]
    [InlineData(ImageTier.NanoBananaPro, "4K", "9:16", 3072, 5504)]
    [InlineData(ImageTier.NanoBanana, "1K", "16:9", 1344, 768)]
    [InlineData(ImageTier.NanoBanana, "1K", "3:4", 864, 1184)]
    public void Pixel_sizes_come_from_the_catalog(ImageTier tier, string size, string ratio, int w, int h)
    {
        Assert.Equal(new PixelSize(w, h), Catalog[tier].GetPixelSize(ImageSize.Parse(size), AspectRatio.Parse(ratio)));
    }

    [Fact]
    public void Pixel_size_for_an_unsupported_combination_is_an_error()
    {
        Assert.Throws<ArgumentException>(() => Catalog[ImageTier.NanoBananaPro].GetPixelSize(ImageSize.HalfK, AspectRatio.Square));
        Assert.Throws<ArgumentException>(() => Catalog[ImageTier.NanoBanana].GetPixelSize(ImageSize.OneK, AspectRatio.Parse("1:8")));
    }

    [Fact]
    public void Every_supported_size_and_ratio_has_pixels_and_a_price()
    {
        foreach (var m in Catalog.Models)
        {
            foreach (var s in m.Sizes)
            {
                Assert.True(m.TryGetPrice(s, out var p) && p > 0);
                foreach (var r in m.AspectRatios)
                {
                    var px = m.GetPixelSize(s, r);
                    Assert.InRange((double)px.Width / px.Height, r.Value * 0.85, r.Value * 1.15);
                }
            }
        }
    }

    [Fact]
    public void Overrides_replace_ids_prices_limits_and_latency()
    {
        var options = new ModelCatalogOptions();
        options.Models["NanoBananaPro"] = new ModelOverrideOptions
        {
            Id = "gemini-3-pro-image",
            Prices = new() { ["1K"] = 0.0804m, ["2K"] = 0.1m, ["4K"] = 0.2m },
            MaxFaceReferences = 6,
            TypicalLatencyMinSeconds = 8,
            TypicalLatencyMaxSeconds = 12,
        };
        var catalog = ModelCatalog.Create(options);
        var pro = catalog[ImageTier.NanoBananaPro];
        Assert.Equal("gemini-3-pro-image", pro.Id);
        Assert.Equal(0.0804m, pro.PricesUsd[ImageSize.OneK]);
        Assert.Equal(6, pro.MaxFaceReferences);
        Assert.Equal(TimeSpan.FromSeconds(8), pro.TypicalLatencyMin);
        Assert.Same(catalog[ImageTier.NanoBanana2].Id, ModelCatalog.Default[ImageTier.NanoBanana2].Id);
        Assert.Same(pro, catalog.Find("gemini-3-pro-image"));
        Assert.Same(pro, catalog.Find("google/gemini-3-pro-image"));
        Assert.Same(pro, catalog.Find("nano-banana-pro"));
    }

    [Theory]
    [InlineData("NanoBanana2", "Prices", "must be zero or more")]
    [InlineData("NanoBanana2", "Sizes", "at least one size")]
    [InlineData("NanoBanana2", "MissingPrice", "has no price")]
    [InlineData("Banana3", "Id", "unknown tier")]
    [InlineData("NanoBanana", "Latency", "TypicalLatencyMinSeconds <= TypicalLatencyMaxSeconds")]
    [InlineData("NanoBanana", "Ratio", "'7:3' is not valid")]
    public void Nonsense_overrides_are_rejected_with_a_clear_message(string tier, string what, string expected)
    {
        var o = new ModelOverrideOptions();
        switch (what)
        {
            case "Prices": o.Prices = new() { ["1K"] = -1m }; break;
            case "Sizes": o.Sizes = []; break;
            case "MissingPrice": o.Prices = new() { ["1K"] = 0.05m }; break;
            case "Id": o.Id = "x"; break;
            case "Latency": o.TypicalLatencyMinSeconds = 9; o.TypicalLatencyMaxSeconds = 2; break;
            case "Ratio": o.AspectRatios = ["7:3"]; break;
        }

        var options = new ModelCatalogOptions();
        options.Models[tier] = o;
        var ex = Assert.ThrowsAny<ArgumentException>(() => ModelCatalog.Create(options));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("IdSpace", "Catalog:Models:NanoBanana2:Id 'gemini 3' cannot name a model in a request path")]
    [InlineData("IdDots", "Catalog:Models:NanoBanana2:Id '../../admin' cannot name a model in a request path")]
    [InlineData("SlugQuery", "Catalog:Models:NanoBanana2:WaveSpeedSlug 'nb2?x=1' cannot name a model in a request path")]
    [InlineData("SuccessorSlash", "Catalog:Models:NanoBanana2:SuccessorId 'google/next' cannot name a model in a request path")]
    [InlineData("LatencyNaN", "Catalog:Models:NanoBanana2:TypicalLatencyMinSeconds is NaN; it must be a number of seconds from 0 to 86400")]
    [InlineData("LatencyHuge", "Catalog:Models:NanoBanana2:TypicalLatencyMaxSeconds is 1E+300; it must be a number of seconds from 0 to 86400")]
    [InlineData("FacesAboveTotal", "Catalog:Models:NanoBanana2:MaxFaceReferences is 5, more than MaxReferenceImages (3)")]
    public void Overrides_that_would_break_a_request_or_a_clock_are_rejected_naming_the_key(string what, string expected)
    {
        var o = new ModelOverrideOptions();
        switch (what)
        {
            case "IdSpace": o.Id = "gemini 3"; break;
            case "IdDots": o.Id = "../../admin"; break;
            case "SlugQuery": o.WaveSpeedSlug = "nb2?x=1"; break;
            case "SuccessorSlash": o.SuccessorId = "google/next"; break;
            case "LatencyNaN": o.TypicalLatencyMinSeconds = double.NaN; break;
            case "LatencyHuge": o.TypicalLatencyMaxSeconds = 1e300; break;
            case "FacesAboveTotal": o.MaxReferenceImages = 3; o.MaxFaceReferences = 5; break;
        }

        var options = new ModelCatalogOptions();
        options.Models["NanoBanana2"] = o;
        var ex = Assert.ThrowsAny<ArgumentException>(() => ModelCatalog.Create(options));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.ParamName); // the key is in the message; no " (Parameter ...)" tail to repeat it
    }

    [Theory]
    [InlineData("NanoBanana", "Id", "gemini-3-pro-image-preview", "'gemini-3-pro-image-preview' names both NanoBanana (Catalog:Models:NanoBanana:Id) and NanoBananaPro (Catalog:Models:NanoBananaPro:Id)")]
    [InlineData("NanoBanana2", "Aliases", "GEMINI-2.5-flash-image", "'gemini-2.5-flash-image' names both NanoBanana (Catalog:Models:NanoBanana:Id) and NanoBanana2 (Catalog:Models:NanoBanana2:Aliases)")]
    [InlineData("NanoBanana2", "Aliases", "nanobananapro", "'nanobananapro' names both NanoBanana2 (Catalog:Models:NanoBanana2:Aliases) and NanoBananaPro (its tier name)")]
    [InlineData("NanoBanana2", "Aliases", "nano-banana", "'nano-banana' names both NanoBanana (Catalog:Models:NanoBanana:Aliases) and NanoBanana2 (Catalog:Models:NanoBanana2:Aliases)")]
    [InlineData("NanoBanana2", "SuccessorId", "gemini-3-pro-image-preview", "'gemini-3-pro-image-preview' names both NanoBanana2 (Catalog:Models:NanoBanana2:SuccessorId) and NanoBananaPro (Catalog:Models:NanoBananaPro:Id)")]
    [InlineData("NanoBananaPro", "WaveSpeedSlug", "nano-banana-2", "'nano-banana-2' names both NanoBanana2 (Catalog:Models:NanoBanana2:WaveSpeedSlug) and NanoBananaPro (Catalog:Models:NanoBananaPro:WaveSpeedSlug)")]
    public void A_name_two_models_would_answer_to_is_rejected_naming_both_keys(string tier, string property, string value, string expected)
    {
        var o = new ModelOverrideOptions();
        switch (property)
        {
            case "Id": o.Id = value; break;
            case "Aliases": o.Aliases = [value]; break;
            case "SuccessorId": o.SuccessorId = value; break;
            case "WaveSpeedSlug": o.WaveSpeedSlug = value; break;
        }

        var options = new ModelCatalogOptions();
        options.Models[tier] = o;
        var ex = Assert.Throws<ArgumentException>(() => ModelCatalog.Create(options));
        Assert.Equal($"Catalog: {expected}; a name may belong to one model only.", ex.Message);
    }

    [Fact]
    public void Disabled_names_its_key_when_it_lists_no_tier_or_leaves_no_model()
    {
        var unknown = new ModelCatalogOptions();
        unknown.Disabled.Add("NanoBanana4");
        Assert.Equal(
            "Catalog:Disabled: 'NanoBanana4' is not a tier. Allowed: NanoBanana, NanoBanana2, NanoBananaPro.",
            Assert.Throws<ArgumentException>(() => ModelCatalog.Create(unknown)).Message);

        var all = new ModelCatalogOptions();
        all.Disabled.AddRange(["NanoBanana", "nanobanana2", "NanoBananaPro"]);
        Assert.Equal(
            "Catalog:Disabled leaves no model; keep at least one of NanoBanana, NanoBanana2, NanoBananaPro.",
            Assert.Throws<ArgumentException>(() => ModelCatalog.Create(all)).Message);
    }

    [Fact]
    public void A_lowered_total_lowers_the_kind_limits_left_at_their_defaults()
    {
        var options = new ModelCatalogOptions();
        options.Models["NanoBanana2"] = new ModelOverrideOptions { MaxReferenceImages = 3 };
        options.Models["NanoBananaPro"] = new ModelOverrideOptions { MaxReferenceImages = 4, MaxFaceReferences = 2 };
        var catalog = ModelCatalog.Create(options);
        var nb2 = catalog[ImageTier.NanoBanana2];
        Assert.Equal((3, 3, 3), (nb2.MaxReferenceImages, nb2.MaxObjectReferences, nb2.MaxFaceReferences)); // defaults 14, 10, 4
        var pro = catalog[ImageTier.NanoBananaPro];
        Assert.Equal((4, 4, 2), (pro.MaxReferenceImages, pro.MaxObjectReferences, pro.MaxFaceReferences)); // defaults 14, 6, 5
    }

    [Fact]
    public void Duplicate_tiers_and_ids_are_rejected()
    {
        var nb2 = ModelCatalog.Default[ImageTier.NanoBanana2];
        Assert.Throws<ArgumentException>(() => new ModelCatalog([nb2, nb2]));
        Assert.Throws<ArgumentException>(() => new ModelCatalog([]));
    }

    [Fact]
    public void A_tier_can_be_disabled()
    {
        var options = new ModelCatalogOptions();
        options.Disabled.Add("NanoBanana");
        var catalog = ModelCatalog.Create(options);
        Assert.Equal(2, catalog.Models.Count);
        Assert.False(catalog.TryGet(ImageTier.NanoBanana, out _));
    }
}
