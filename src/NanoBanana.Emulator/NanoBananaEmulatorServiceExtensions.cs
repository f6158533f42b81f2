using Microsoft.Extensions.DependencyInjection;
using NanoBanana.DependencyInjection;

namespace NanoBanana.Emulator;

/// <summary>Points a registered NanoBanana client at an in-process emulator (development, demos, integration tests).</summary>
public static class NanoBananaEmulatorServiceExtensions
{
    /// <summary>
    /// Starts an emulator on 127.0.0.1 when the client is first built, and points that client at it. The client gets
    /// the emulator's address, and its latencies and poll intervals scaled like the emulator's time. The container
    /// owns the emulator and stops it on dispose. Resolve <see cref="NanoBananaEmulator"/> (keyed by the builder's
    /// name) to script faults or read its request log.
    /// </summary>
    /// <param name="builder">The builder from <c>AddNanoBanana</c>.</param>
    /// <param name="configure">Emulator options, e.g. <c>o =&gt; o.TimeScale = 0.1</c>.</param>
    public static INanoBananaBuilder UseEmulator(this INanoBananaBuilder builder, Action<EmulatorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var name = builder.Name;
        builder.Services.AddKeyedSingleton(name, (_, _) =>
        {
            var options = new EmulatorOptions();
            configure?.Invoke(options);
            return NanoBananaEmulator.StartAsync(options).GetAwaiter().GetResult();
        });
        builder.Services.AddOptions<NanoBananaOptions>(name)
            .PostConfigure<IServiceProvider>((options, services) => services.GetRequiredKeyedService<NanoBananaEmulator>(name).ConfigureClient(options));
        return builder;
    }
}
