using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

/// <summary>A completion-time distribution for the emulator, in the catalog's (unscaled) seconds.</summary>
public sealed record LatencyProfile
{
    /// <summary>The shape.</summary>
    public LatencyShape Shape { get; init; } = LatencyShape.Uniform;

    /// <summary>Lognormal sigma. Default 0.45.</summary>
    public double Sigma { get; init; } = 0.45;

    /// <summary>Two-mode: the share of queued jobs. Default 0.3.</summary>
    public double SlowShare { get; init; } = 0.3;

    /// <summary>Two-mode: queued jobs take this many times longer, at least. Default 2.</summary>
    public double SlowFactorMin { get; init; } = 2;

    /// <summary>Two-mode: queued jobs take this many times longer, at most. Default 3.</summary>
    public double SlowFactorMax { get; init; } = 3;

    /// <summary>Drift: jobs of the model before the change. Default 130.</summary>
    public int DriftAfterJobs { get; init; } = 130;

    /// <summary>Drift: how much longer jobs take after the change. Default 1.6.</summary>
    public double DriftFactor { get; init; } = 1.6;

    /// <summary>Draws one completion time (seconds) for the <paramref name="jobIndex"/>-th job of a model.</summary>
    public double Sample(ImageModel model, Random random, int jobIndex)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(random);
        var lo = model.TypicalLatencyMin.TotalSeconds;
        var hi = model.TypicalLatencyMax.TotalSeconds;
        var uniform = lo + ((hi - lo) * random.NextDouble());
        switch (Shape)
        {
            case LatencyShape.LogNormal:
                var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                return Math.Sqrt(lo * hi) * Math.Exp(Sigma * z);
            case LatencyShape.TwoMode:
                return random.NextDouble() < SlowShare ? uniform * (SlowFactorMin + ((SlowFactorMax - SlowFactorMin) * random.NextDouble())) : uniform;
            case LatencyShape.Drift:
                return jobIndex >= DriftAfterJobs ? uniform * DriftFactor : uniform;
            default:
                return uniform;
        }
    }

    /// <summary>The settings that cannot make a distribution, each named under <paramref name="path"/>.</summary>
    internal IEnumerable<string> Problems(string path)
    {
        static string Shown(double v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

        if (!(Sigma > 0 && double.IsFinite(Sigma)))
        {
            yield return $"{path}.Sigma must be above 0 (got {Shown(Sigma)}).";
        }

        if (!(SlowShare is >= 0 and <= 1))
        {
            yield return $"{path}.SlowShare must be from 0 to 1 (got {Shown(SlowShare)}).";
        }

        if (!(SlowFactorMin >= 1 && SlowFactorMax >= SlowFactorMin && double.IsFinite(SlowFactorMax)))
        {
            yield return $"{path}: need 1 <= SlowFactorMin <= SlowFactorMax (got {Shown(SlowFactorMin)} and {Shown(SlowFactorMax)}).";
        }

        if (DriftAfterJobs < 0)
        {
            yield return $"{path}.DriftAfterJobs must be 0 or more (got {DriftAfterJobs}).";
        }

        if (!(DriftFactor > 0 && double.IsFinite(DriftFactor)))
        {
            yield return $"{path}.DriftFactor must be above 0 (got {Shown(DriftFactor)}).";
        }
    }
}
