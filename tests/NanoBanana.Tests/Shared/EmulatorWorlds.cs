using NanoBanana.Emulator;

namespace NanoBanana.Soak;

/// <summary>
/// The emulator's defaults changed, as a service unlike it might be: other latency shapes, <c>executionTime</c> reported
/// (or in the wrong unit), other body spellings. Tests and soaks run in these worlds by name; "default" changes nothing.
/// </summary>
public static class EmulatorWorlds
{
    /// <summary>Every world by name, with what it changes.</summary>
    public static IReadOnlyDictionary<string, Action<EmulatorOptions>> All { get; } = new Dictionary<string, Action<EmulatorOptions>>(StringComparer.Ordinal)
    {
        ["default"] = _ => { },
        ["lognormal+executionTime"] = o =>
        {
            o.Latency = new LatencyProfile { Shape = LatencyShape.LogNormal, Sigma = 0.6 };
            o.ReportExecutionTime = true;
        },
        ["two-mode+arrays+iso"] = o =>
        {
            o.Latency = new LatencyProfile { Shape = LatencyShape.TwoMode };
            o.UrlsAsArray = true;
            o.IsoTimestamps = true;
        },
        ["wide+executionTime-in-seconds"] = o =>
        {
            o.Latency = new LatencyProfile { Shape = LatencyShape.LogNormal, Sigma = 0.9 };
            o.ReportExecutionTime = true;
            o.ExecutionTimeFactor = 0.001;
        },
    };

    /// <summary>Applies the world named <paramref name="world"/> to <paramref name="options"/>.</summary>
    public static void Configure(EmulatorOptions options, string world) => All[world](options);
}
