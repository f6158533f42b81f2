using System.Diagnostics.Metrics;

namespace NanoBanana.Diagnostics;

/// <summary>A histogram of the SDK's whose measurement listeners cannot fail a job, as <see cref="GuardedCounter"/>.</summary>
internal sealed class GuardedHistogram(Histogram<double> histogram)
{
    /// <summary>Records <paramref name="value"/> with one tag.</summary>
    public void Record(double value, KeyValuePair<string, object?> tag)
    {
        try
        {
            histogram.Record(value, tag);
        }
        catch (Exception)
        {
            // Dropped: see GuardedCounter.
        }
    }
}
