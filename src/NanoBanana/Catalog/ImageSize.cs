using System.Diagnostics.CodeAnalysis;

namespace NanoBanana;

/// <summary>
/// A nominal output size: 0.5K, 1K, 2K or 4K. <c>default(ImageSize)</c> is <see cref="OneK"/>.
/// </summary>
public readonly record struct ImageSize : IComparable<ImageSize>
{
    // Stored as half-K units minus two so that default(ImageSize) is 1K.
    private readonly int _halvesMinusTwo;

    private ImageSize(int halves) => _halvesMinusTwo = halves - 2;

    /// <summary>0.5K (512 px on the long side class), Nano Banana 2 only.</summary>
    public static ImageSize HalfK { get; } = new(1);

    /// <summary>1K, the default.</summary>
    public static ImageSize OneK { get; } = new(2);

    /// <summary>2K.</summary>
    public static ImageSize TwoK { get; } = new(4);

    /// <summary>4K.</summary>
    public static ImageSize FourK { get; } = new(8);

    /// <summary>All sizes, smallest first.</summary>
    public static IReadOnlyList<ImageSize> All { get; } = [HalfK, OneK, TwoK, FourK];

    /// <summary>The nominal pixel class: 512, 1024, 2048 or 4096.</summary>
    public int NominalPixels => (_halvesMinusTwo + 2) * 512;

    /// <summary>Parses "0.5K", "512", "1K", "2K" or "4K" (case-insensitive).</summary>
    /// <exception cref="FormatException">The text is not one of the supported sizes.</exception>
    public static ImageSize Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TryParse(value, out var size)
            ? size
            : throw new FormatException($"Unknown image size '{value}'. Supported sizes: 0.5K (or 512), 1K, 2K, 4K.");
    }

    /// <summary>Tries to parse "0.5K", "512", "1K", "2K" or "4K" (case-insensitive).</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ImageSize size)
    {
        var text = value.AsSpan().Trim();
        if (text.Equals("0.5K", StringComparison.OrdinalIgnoreCase) || text.Equals("512", StringComparison.Ordinal) || text.Equals(".5K", StringComparison.OrdinalIgnoreCase))
        {
            size = HalfK;
            return true;
        }

        if (text.Equals("1K", StringComparison.OrdinalIgnoreCase) || text.Equals("1024", StringComparison.Ordinal))
        {
            size = OneK;
            return true;
        }

        if (text.Equals("2K", StringComparison.OrdinalIgnoreCase) || text.Equals("2048", StringComparison.Ordinal))
        {
            size = TwoK;
            return true;
        }

        if (text.Equals("4K", StringComparison.OrdinalIgnoreCase) || text.Equals("4096", StringComparison.Ordinal))
        {
            size = FourK;
            return true;
        }

        size = default;
        return false;
    }

    /// <inheritdoc />
    public int CompareTo(ImageSize other) => _halvesMinusTwo.CompareTo(other._halvesMinusTwo);

    /// <summary>Compares two sizes.</summary>
    public static bool operator <(ImageSize left, ImageSize right) => left.CompareTo(right) < 0;

    /// <summary>Compares two sizes.</summary>
    public static bool operator >(ImageSize left, ImageSize right) => left.CompareTo(right) > 0;

    /// <summary>Compares two sizes.</summary>
    public static bool operator <=(ImageSize left, ImageSize right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two sizes.</summary>
    public static bool operator >=(ImageSize left, ImageSize right) => left.CompareTo(right) >= 0;

    /// <summary>"0.5K", "1K", "2K" or "4K".</summary>
    public override string ToString() => (_halvesMinusTwo + 2) switch
    {
        1 => "0.5K",
        2 => "1K",
        4 => "2K",
        8 => "4K",
        var h => $"{h / 2.0:0.#}K",
    };
}
