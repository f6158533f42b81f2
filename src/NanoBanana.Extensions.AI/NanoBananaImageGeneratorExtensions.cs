using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace NanoBanana.Extensions.AI;

/// <summary>Extensions to get an <see cref="IImageGenerator"/> from the Nano Banana client.</summary>
[Experimental("MEAI001")]
public static class NanoBananaImageGeneratorExtensions
{
    /// <summary>Wraps the client as an <see cref="IImageGenerator"/>.</summary>
    public static IImageGenerator AsImageGenerator(this INanoBananaClient client) => new NanoBananaImageGenerator(client);

    /// <summary>
    /// Registers <see cref="IImageGenerator"/> (singleton) over the registered client, keyed by the builder's name when
    /// it has one, and returns Microsoft.Extensions.AI's <see cref="ImageGeneratorBuilder"/> so that its middleware
    /// chains: <c>services.AddNanoBanana(...).AddImageGenerator().UseLogging().UseOpenTelemetry()</c>. The first
    /// <c>Use…</c> call is the outermost layer. Without one, the registered generator is the
    /// <see cref="NanoBananaImageGenerator"/> itself.
    /// </summary>
    /// <param name="builder">The builder <c>AddNanoBanana</c> returned.</param>
    /// <returns>The pipeline builder for the registered generator.</returns>
    public static ImageGeneratorBuilder AddImageGenerator(this DependencyInjection.INanoBananaBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return string.IsNullOrEmpty(builder.Name)
            ? builder.Services.AddImageGenerator(sp => new NanoBananaImageGenerator(sp.GetRequiredService<INanoBananaClient>()))
            : builder.Services.AddKeyedImageGenerator(builder.Name, sp => new NanoBananaImageGenerator(sp.GetRequiredKeyedService<INanoBananaClient>(builder.Name)));
    }
}
