using System.Globalization;

namespace NanoBanana.Benchmarks;

/// <summary>Formatting shared by the polling harness and its simulation: invariant culture, signed percentages.</summary>
internal static class BenchmarkText
{
    /// <summary>The string in the invariant culture (decimal points, whatever the machine's locale).</summary>
    public static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>A signed whole percentage; rounded first, so a value just under zero prints "0" rather than "-+0".</summary>
    public static string Signed(double percent) => Math.Round(percent).ToString("+0;-0;0", CultureInfo.InvariantCulture);
}
