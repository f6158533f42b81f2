using System.Diagnostics.Metrics;

namespace NanoBanana.Diagnostics;

/// <summary>
/// A counter of the SDK's whose measurement listeners cannot fail a job: <see cref="MeterListener"/> callbacks run
/// inside <see cref="Counter{T}.Add(T)"/>, and one that throws after a submit was accepted would end the call with the
/// paid job's image or id lost. A dropped measurement is worth less (see <see cref="GuardedSpan"/>).
/// </summary>
internal sealed class GuardedCounter(Counter<long> counter)
{
    /// <summary>Adds <paramref name="delta"/> with one tag.</summary>
    public void Add(long delta, KeyValuePair<string, object?> tag)
    {
        try
        {
            counter.Add(delta, tag);
        }
        catch (Exception)
        {
            // Dropped: see the type's summary.
        }
    }

    /// <summary>Adds <paramref name="delta"/> with two tags.</summary>
    public void Add(long delta, KeyValuePair<string, object?> tag1, KeyValuePair<string, object?> tag2)
    {
        try
        {
            counter.Add(delta, tag1, tag2);
        }
        catch (Exception)
        {
            // Dropped: see the type's summary.
        }
    }
}
