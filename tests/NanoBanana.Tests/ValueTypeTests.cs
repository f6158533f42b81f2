namespace NanoBanana.Tests;

public class ValueTypeTests
{
    [Theory]
    [InlineData("0.5K", "0.5K")]
    [InlineData("0.5k", "0.5K")]
    [InlineData("512", "0.5K")]
    [InlineData("1K", "1K")]
    [InlineData("1k", "1K")]
    [InlineData(" 2K ", "2K")]
    [InlineData("4k", "4K")]
    public void ImageSize_parses_every_spelling(string text, string expected)
    {
        Assert.Equal(expected, ImageSize.Parse(text).ToString());
        Assert.True(ImageSize.TryParse(text, out var size));
        Assert.Equal(expected, size.ToString());
    }

    [Theory]
    [InlineData("3K")]
    [InlineData("")]
    [InlineData("8K")]
    [InlineData("1KK")]
    public void ImageSize_rejects_unknown_sizes_with_the_allowed_list(string text)
    {
        var ex = Assert.Throws<FormatException>(() => ImageSize.Parse(text));
        Assert.Contains("0.5K", ex.Message);
        Assert.Contains("4K", ex.Message);
        Assert.False(ImageSize.TryParse(text, out _));
    }

    [Fact]
    public void ImageSize_default_is_1K_and_sizes_order()
    {
        Assert.Equal(ImageSize.OneK, default(ImageSize));
        Assert.True(ImageSize.HalfK < ImageSize.OneK && ImageSize.TwoK < ImageSize.FourK);
        Assert.Equal(4096, ImageSize.FourK.NominalPixels);
        Assert.False(ImageSize.TryParse(null, out _));
    }

    [Theory]
    [InlineData("16:9", 16, 9)]
    [InlineData("1:8", 1, 8)]
    [InlineData("21:9", 21, 9)]
    [InlineData(" 4:5 ", 4, 5)]
    public void AspectRatio_parses_known_ratios(string text, int w, int h)
    {
        var ratio = AspectRatio.Parse(text);
        Assert.Equal(w, ratio.Width);
        Assert.Equal(h, ratio.Height);
        Assert.Equal(text.Trim(), ratio.ToString());
    }

    [Theory]
    [InlineData("16:10")]
    [InlineData("2:1")]
    [InlineData("abc")]
    [InlineData("16-9")]
    [InlineData(":9")]
    public void AspectRatio_rejects_unknown_ratios_with_a_clear_message(string text)
    {
        var ex = Assert.Throws<FormatException>(() => AspectRatio.Parse(text));
        Assert.Contains(text, ex.Message);
        Assert.Contains("16:9", ex.Message);
        Assert.False(AspectRatio.TryParse(text, out _));
    }

    [Fact]
    public void AspectRatio_default_is_square_and_all_fourteen_are_known()
    {
        Assert.Equal(AspectRatio.Square, default(AspectRatio));
        Assert.Equal("1:1", default(AspectRatio).ToString());
        Assert.Equal(14, AspectRatio.All.Count);
        Assert.Equal(10, AspectRatio.Standard.Count);
    }
}
