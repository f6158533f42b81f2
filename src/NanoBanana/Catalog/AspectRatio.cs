using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace NanoBanana;

/// <summary>
/// One of the aspect ratios the Nano Banana models know, such as 16:9. <c>default(AspectRatio)</c> is 1:1.
/// </summary>
public readonly record struct AspectRatio
{
    // Stored minus one so that default(AspectRatio) is 1:1.
    private readonly int _widthMinusOne;
    private readonly int _heightMinusOne;

    private AspectRatio(int width, int height)
    {
        _widthMinusOne = width - 1;
        _heightMinusOne = height - 1;
    }

    /// <summary>The width term of the ratio (16 in 16:9).</summary>
    public int Width => _widthMinusOne + 1;

    /// <summary>The height term of the ratio (9 in 16:9).</summary>
    public int Height => _heightMinusOne + 1;

    /// <summary>1:1, the default.</summary>
    public static AspectRatio Square { get; } = new(1, 1);

    /// <summary>The ten ratios every model supports.</summary>
    public static IReadOnlyList<AspectRatio> Standard { get; } =
    [
        new(1, 1), new(2, 3), new(3, 2), new(3, 4), new(4, 3), new(4, 5), new(5, 4), new(9, 16), new(16, 9), new(21, 9),
    ];

    /// <summary>The four extreme ratios only Nano Banana 2 supports: 1:4, 4:1, 1:8, 8:1.</summary>
    public static IReadOnlyList<AspectRatio> Extreme { get; } = [new(1, 4), new(4, 1), new(1, 8), new(8, 1)];

    /// <summary>Every known ratio: <see cref="Standard"/> then <see cref="Extreme"/>.</summary>
    public static IReadOnlyList<AspectRatio> All { get; } = [.. Standard, .. Extreme];

    /// <summary>Width divided by height.</summary>
    public double Value => (double)Width / Height;

    /// <summary>Parses a ratio such as "16:9".</summary>
    /// <exception cref="FormatException">The text is not one of the known ratios.</exception>
    public static AspectRatio Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TryParse(value, out var ratio)
            ? ratio
            : throw new FormatException($"Unknown aspect ratio '{value}'. Supported ratios: {string.Join(", ", All)}.");
    }

    /// <summary>Tries to parse a known ratio such as "16:9".</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out AspectRatio ratio)
    {
        ratio = default;
        var text = value.AsSpan().Trim();
        var colon = text.IndexOf(':');
        if (colon <= 0
            || !int.TryParse(text[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
            || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var h))
        {
            return false;
        }

        foreach (var known in All)
        {
            if (known.Width == w && known.Height == h)
            {
                ratio = known;
                return true;
            }
        }

        return false;
    }

    /// <summary>"16:9".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Width}:{Height}");
}
