using System.Buffers.Binary;
using System.IO.Compression;

namespace NanoBanana.Emulator;

/// <summary>Writes real, valid PNG files of any size: a horizontal gradient, compressed well because every row repeats.</summary>
internal static class PngWriter
{
    /// <summary>
    /// Encodes an RGB gradient image of the given size from one colour to another, with optional lines of text drawn
    /// in white on a darkened band near the top (see <see cref="BitmapFont"/>). Lines too long for the width are cut
    /// with "...", and lines that do not fit the height are left out.
    /// </summary>
    public static byte[] Gradient(int width, int height, (byte R, byte G, byte B) from, (byte R, byte G, byte B) to, IReadOnlyList<string>? label = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type RGB
        ihdr[10] = 0; // deflate
        ihdr[11] = 0; // adaptive filtering
        ihdr[12] = 0; // no interlace
        WriteChunk(output, "IHDR"u8, ihdr);

        var layout = LabelLayout.For(width, height, label);
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[1 + (width * 3)];
            row[0] = 0; // filter: none
            for (var x = 0; x < width; x++)
            {
                var t = width == 1 ? 0 : (double)x / (width - 1);
                row[1 + (x * 3)] = (byte)(from.R + ((to.R - from.R) * t));
                row[2 + (x * 3)] = (byte)(from.G + ((to.G - from.G) * t));
                row[3 + (x * 3)] = (byte)(from.B + ((to.B - from.B) * t));
            }

            var up = new byte[row.Length];
            up[0] = 2; // filter: up — identical rows become zeros
            var text = layout.Lines.Count == 0 ? null : new byte[row.Length];
            for (var y = 0; y < height; y++)
            {
                if (layout.Contains(y))
                {
                    layout.DrawRow(y, row, text!);
                    z.Write(text);
                }
                else
                {
                    // The first row, and the first row after the band, restate the gradient; the rest repeat it.
                    z.Write(y == 0 || y == layout.End ? row : up);
                }
            }
        }

        WriteChunk(output, "IDAT"u8, idat.GetBuffer().AsSpan(0, (int)idat.Length));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    /// <summary>Where the label's lines go on an image: a band of text rows, scaled to the image's width.</summary>
    internal sealed class LabelLayout
    {
        private LabelLayout(int scale, int top, int end, int left, IReadOnlyList<string> lines)
        {
            Scale = scale;
            Top = top;
            End = end;
            Left = left;
            Lines = lines;
        }

        /// <summary>Image pixels per font pixel.</summary>
        public int Scale { get; }

        /// <summary>The band's first row.</summary>
        public int Top { get; }

        /// <summary>The first row after the band.</summary>
        public int End { get; }

        /// <summary>The column of the text's first pixel.</summary>
        public int Left { get; }

        /// <summary>The lines as drawn (cut to the width, only those that fit the height).</summary>
        public IReadOnlyList<string> Lines { get; }

        /// <summary>The height of one text line, spacing included, in image pixels.</summary>
        public int LineHeight => (BitmapFont.Height + 3) * Scale;

        /// <summary>The width of one character cell, spacing included, in image pixels.</summary>
        public int CharWidth => (BitmapFont.Width + 1) * Scale;

        /// <summary>Lays out <paramref name="label"/> on an image of the given size.</summary>
        public static LabelLayout For(int width, int height, IReadOnlyList<string>? label)
        {
            // About 60 characters across the image, but never glyphs smaller than the font itself.
            var scale = Math.Max(1, width / ((BitmapFont.Width + 1) * 60));
            var margin = 2 * scale;
            var lineHeight = (BitmapFont.Height + 3) * scale;
            var fitLines = Math.Max(0, (height - (2 * margin)) / lineHeight);
            var columns = Math.Max(0, (width - (2 * margin)) / ((BitmapFont.Width + 1) * scale));
            var lines = new List<string>();
            foreach (var line in label ?? [])
            {
                if (lines.Count == fitLines || columns < 4)
                {
                    break;
                }

                lines.Add(line.Length <= columns ? line : string.Concat(line.AsSpan(0, columns - 3), "..."));
            }

            var top = lines.Count == 0 ? 0 : margin;
            var end = lines.Count == 0 ? 0 : top + (lines.Count * lineHeight) + scale;
            return new LabelLayout(scale, top, end, margin + scale, lines);
        }

        /// <summary>Whether row <paramref name="y"/> is part of the band.</summary>
        public bool Contains(int y) => y >= Top && y < End;

        /// <summary>Whether the pixel at (x, y) is ink of the text.</summary>
        public bool IsInk(int x, int y)
        {
            if (!Contains(y) || x < Left)
            {
                return false;
            }

            var line = (y - Top - Scale) / LineHeight;
            var inLine = (y - Top - Scale) % LineHeight / Scale;
            var cell = (x - Left) / CharWidth;
            var inCell = (x - Left) % CharWidth / Scale;
            return y - Top >= Scale && line < Lines.Count && cell < Lines[line].Length
                && inLine < BitmapFont.Height && inCell < BitmapFont.Width && BitmapFont.Ink(Lines[line][cell], inCell, inLine);
        }

        /// <summary>Writes band row <paramref name="y"/>: the gradient darkened to a third, the text in white.</summary>
        public void DrawRow(int y, ReadOnlySpan<byte> gradient, Span<byte> target)
        {
            target[0] = 0; // filter: none
            var width = (gradient.Length - 1) / 3;
            for (var x = 0; x < width; x++)
            {
                var ink = IsInk(x, y);
                for (var c = 1; c <= 3; c++)
                {
                    target[(x * 3) + c] = ink ? (byte)255 : (byte)(gradient[(x * 3) + c] / 3);
                }
            }
        }
    }

    /// <summary>Reads width and height from a PNG's IHDR chunk.</summary>
    public static (int Width, int Height) ReadSize(ReadOnlySpan<byte> png)
    {
        if (png.Length < 24 || png[0] != 0x89 || png[1] != (byte)'P' || png[12..16].SequenceEqual("IHDR"u8) is false)
        {
            throw new FormatException("Not a PNG file.");
        }

        return (BinaryPrimitives.ReadInt32BigEndian(png[16..]), BinaryPrimitives.ReadInt32BigEndian(png[20..]));
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        output.Write(type);
        output.Write(data);
        Span<byte> sum = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(sum, ~Crc(Crc(0xFFFFFFFFu, type), data));
        output.Write(sum);
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }
}
