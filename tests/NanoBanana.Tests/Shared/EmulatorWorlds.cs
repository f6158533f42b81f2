using NanoBanana.Emulator;

namespace NanoBanana.Soak;

/// <summary>
/// The emulator's defaults changed, as a service unlike it might be: other latency shapes, <c>executionTime</c> reported
/// (or in the wrong unit), other body spellings. Tests and soaks run in these worlds by name; "default" changes nothing.
/// </summary>
public static class EmulatorWorlds
{
    /// <summary>The start of every prediction id in the "hostile-ids" world.</summary>
    public static string HostileIdPrefix => "\u001b]0;owned\u0007\n\u202E../" + new string('x', 300) + "-";

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
        // Every prediction id carries an escape sequence, a bell, a line break, a right-to-left override, path
        // characters and 300 more characters: messages and logs must show it safely, and resuming must use it exactly.
        ["hostile-ids"] = o => o.IdPrefix = HostileIdPrefix,
        ["wide+executionTime-in-seconds"] = o =>
        {
            o.Latency = new LatencyProfile { Shape = LatencyShape.LogNormal, Sigma = 0.9 };
            o.ReportExecutionTime = true;
            o.ExecutionTimeFactor = 0.001;
        },

        // One change each, for NB_EMULATOR_DEFAULTS, which runs the unit tests with several of them at once (its names
        // are the keys, comma-separated; see TestSupport).
        ["lognormal"] = o => o.Latency = new LatencyProfile { Shape = LatencyShape.LogNormal, Sigma = 0.9 },
        ["two-mode"] = o => o.Latency = new LatencyProfile { Shape = LatencyShape.TwoMode },
        ["drift"] = o => o.Latency = new LatencyProfile { Shape = LatencyShape.Drift, DriftAfterJobs = 5, DriftFactor = 3 },
        ["execution-time"] = o => o.ReportExecutionTime = true,
        ["execution-time-seconds"] = o => (o.ReportExecutionTime, o.ExecutionTimeFactor) = (true, 0.001),
        ["urls-array"] = o => o.UrlsAsArray = true,
        ["iso-timestamps"] = o => o.IsoTimestamps = true,
        ["relative-urls"] = o => o.OutputUrls = OutputUrlForm.RootRelative,
        ["scheme-relative-urls"] = o => o.OutputUrls = OutputUrlForm.SchemeRelative,
        ["odd-ids"] = o => o.IdPrefix = "sora-2:task/",
        ["lean-polls"] = o => o.LeanPolls = true,
        ["storage-types"] = o => o.OutputContentType = "binary/octet-stream",
        ["other-statuses"] = o => (o.QueuedStatus, o.RunningStatus) = ("queued", "running"),
        ["network"] = o => o.RequestDelay = TimeSpan.FromMilliseconds(20),
        ["far-network"] = o => o.RequestDelay = TimeSpan.FromMilliseconds(150),
        ["seed"] = o => o.Seed = 7,
        ["unlabelled"] = o => o.LabelImages = false,
        ["flaky-polls"] = o =>
        {
            (o.FaultRate, o.RandomFaultTarget) = (0.05, FaultTarget.Poll);
            foreach (var kind in new[] { FaultKind.Unavailable, FaultKind.RateLimited, FaultKind.DropConnection, FaultKind.MalformedJson })
            {
                o.RandomFaults.Add(kind);
            }
        },
    };

    /// <summary>Whether a text holds a character that acts on a terminal or reorders what is read (as hostile ids carry).</summary>
    public static bool IsUnsafe(string text) => text.AsSpan().IndexOfAny("\u001b\u0007\u202E") >= 0;

    /// <summary>Applies the world named <paramref name="world"/> to <paramref name="options"/>.</summary>
    public static void Configure(EmulatorOptions options, string world) => All[world](options);
}
