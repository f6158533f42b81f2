using NanoBanana.Emulator;
using NanoBanana.Soak;

namespace NanoBanana.Benchmarks;

/// <summary>
/// NB_WORLD for the soaks: one of <see cref="EmulatorWorlds.All"/>, the emulator's defaults changed as a service unlike
/// it might be. Unset: the defaults (uniform latency, no executionTime, object urls, plain timestamps).
/// </summary>
internal static class SelectedWorld
{
    /// <summary>The world NB_WORLD names (null and no change when unset); false, with a message, for an unknown name.</summary>
    public static bool TrySelect(out string? name, out Action<EmulatorOptions>? configure)
    {
        name = Environment.GetEnvironmentVariable("NB_WORLD") is { Length: > 0 } w ? w : null;
        configure = null;
        if (name is null || EmulatorWorlds.All.TryGetValue(name, out configure))
        {
            return true;
        }

        Console.Error.WriteLine($"NB_WORLD must be one of: {string.Join(", ", EmulatorWorlds.All.Keys)}");
        return false;
    }

    /// <summary>Applies the selected world to emulator options (nothing when NB_WORLD is unset).</summary>
    public static EmulatorOptions Apply(EmulatorOptions options)
    {
        if (TrySelect(out _, out var configure))
        {
            configure?.Invoke(options);
        }

        return options;
    }
}
