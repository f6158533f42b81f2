using System.Buffers.Binary;
using System.IO.Compression;
using NanoBanana.Catalog;
using NanoBanana.Emulator;

namespace NanoBanana.Tests;

/// <summary>The emulator's images say what produced them: model, size, ratio, prediction id and the prompt's first words.</summary>
public class EmulatorImageTests
{
    [Fact]
    public void A_glyph_is_drawn_pixel_for_pixel_from_the_font()
    {
        // 40 px wide: scale 1, text from (3, 3). The expected 'A' is written out here, not read from the font.
        string[] a = [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"];
        var image = DecodedPng.Read(PngWriter.Gradient(40, 20, (90, 90, 90), (90, 90, 90), ["A"]));
        for (var row = 0; row < 7; row++)
        {
            for (var column = 0; column < 5; column++)
            {
                Assert.Equal(a[row][column] == '#' ? (255, 255, 255) : (30, 30, 30), image.Pixel(3 + column, 3 + row));
            }
        }

        Assert.Equal((90, 90, 90), image.Pixel(0, 19)); // below the band: the gradient itself
    }

    [Fact]
    public void Lower_case_and_typographic_quotes_are_drawn_and_unknown_characters_become_question_marks()
    {
        Assert.Equal(Ink('A'), Ink('a'));
        Assert.Equal(Ink('\''), Ink('\u2019'));
        Assert.Equal(Ink('?'), Ink('\u00e9'));
        Assert.NotEqual(Ink('?'), Ink('B'));
    }

    [Fact]
    public void Long_lines_are_cut_and_lines_that_do_not_fit_are_left_out()
    {
        var layout = PngWriter.LabelLayout.For(120, 40, [new string('x', 100), "second", "third", "fourth"]);
        Assert.EndsWith("...", layout.Lines[0]);
        Assert.True(layout.Lines[0].Length * layout.CharWidth <= 120);
        Assert.True(layout.End <= 40);
        Assert.True(layout.Lines.Count < 4);
    }

    [Fact]
    public async Task Each_job_image_carries_its_model_size_ratio_id_and_prompt()
    {
        // Labels on (the default, stated: they are what is tested) and plain ids: a hostile world's 300-character id would
        // be cut to the band's width, which this test's expected lines do not model.
        await using var emulator = await Emu.StartAsync(o => (o.LabelImages, o.IdPrefix) = (true, ""));
        using var client = Emu.Client(emulator);
        var first = await client.GenerateAsync(new ImageJob("a red bicycle leaning on a wall in Lisbon") { PinnedTier = ImageTier.NanoBanana2, AspectRatio = AspectRatio.Parse("16:9") });
        var second = await client.GenerateAsync(new ImageJob("a blue kite") { PinnedTier = ImageTier.NanoBanana2, AspectRatio = AspectRatio.Parse("16:9") });
        var bytes = await first.Images[0].GetBytesAsync();
        var other = await second.Images[0].GetBytesAsync();

        Assert.Equal(PngWriter.ReadSize(bytes), PngWriter.ReadSize(other));
        Assert.NotEqual(bytes, other);

        // Every pixel of the band is white exactly where these lines, written out by the test, put ink.
        var image = DecodedPng.Read(bytes);
        string[] expected =
        [
            "Nano Banana 2 - gemini-3.1-flash-image-preview",
            $"1K 16:9 {image.Width}x{image.Height}",
            $"id {first.PredictionId}",
            "\"a red bicycle leaning on a wall in Lisbon\"",
            "NanoBanana emulator",
        ];
        var layout = PngWriter.LabelLayout.For(image.Width, image.Height, expected);
        Assert.Equal(expected, layout.Lines);
        var ink = 0;
        for (var y = layout.Top; y < layout.End; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var white = image.Pixel(x, y) == (255, 255, 255);
                Assert.True(layout.IsInk(x, y) == white, $"pixel ({x}, {y})");
                ink += white ? 1 : 0;
            }
        }

        Assert.True(ink > 1000, $"{ink} white pixels");
    }

    [Fact]
    public async Task Without_labels_every_job_of_one_size_and_tier_gets_the_same_gradient()
    {
        await using var emulator = await Emu.StartAsync(o => o.LabelImages = false);
        using var client = Emu.Client(emulator);
        var first = await client.GenerateAsync(new ImageJob("one") { PinnedTier = ImageTier.NanoBanana });
        var second = await client.GenerateAsync(new ImageJob("two") { PinnedTier = ImageTier.NanoBanana });
        Assert.Equal(await first.Images[0].GetBytesAsync(), await second.Images[0].GetBytesAsync());
    }

    private static ulong Ink(char c)
    {
        ulong bits = 0;
        for (var i = 0; i < BitmapFont.Width * BitmapFont.Height; i++)
        {
            bits |= BitmapFont.Ink(c, i % BitmapFont.Width, i / BitmapFont.Width) ? 1UL << i : 0;
        }

        return bits;
    }

    /// <summary>A minimal PNG reader for 8-bit RGB images (all five row filters), written for these tests.</summary>
    private sealed class DecodedPng(int width, int height, byte[] rgb)
    {
        public int Width { get; } = width;

        public int Height { get; } = height;

        public (int R, int G, int B) Pixel(int x, int y)
        {
            var i = ((y * Width) + x) * 3;
            return (rgb[i], rgb[i + 1], rgb[i + 2]);
        }

        public static DecodedPng Read(byte[] png)
        {
            var (width, height) = PngWriter.ReadSize(png);
            Assert.Equal(8, png[24]); // bit depth
            Assert.Equal(2, png[25]); // RGB
            using var idat = new MemoryStream();
            for (var at = 8; at < png.Length;)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
                if (png.AsSpan(at + 4, 4).SequenceEqual("IDAT"u8))
                {
                    idat.Write(png, at + 8, length);
                }

                at += 12 + length;
            }

            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            using var raw = new MemoryStream();
            z.CopyTo(raw);
            var data = raw.ToArray();
            var stride = width * 3;
            var rgb = new byte[stride * height];
            for (var y = 0; y < height; y++)
            {
                var filter = data[y * (stride + 1)];
                for (var i = 0; i < stride; i++)
                {
                    int left = i >= 3 ? rgb[(y * stride) + i - 3] : 0;
                    int up = y > 0 ? rgb[((y - 1) * stride) + i] : 0;
                    int corner = y > 0 && i >= 3 ? rgb[((y - 1) * stride) + i - 3] : 0;
                    int value = data[(y * (stride + 1)) + 1 + i];
                    value += filter switch
                    {
                        0 => 0,
                        1 => left,
                        2 => up,
                        3 => (left + up) / 2,
                        4 => Paeth(left, up, corner),
                        _ => throw new FormatException($"filter {filter}"),
                    };
                    rgb[(y * stride) + i] = (byte)value;
                }
            }

            return new DecodedPng(width, height, rgb);
        }

        private static int Paeth(int a, int b, int c)
        {
            var p = a + b - c;
            var (pa, pb, pc) = (Math.Abs(p - a), Math.Abs(p - b), Math.Abs(p - c));
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }
}
