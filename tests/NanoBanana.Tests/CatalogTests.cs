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
