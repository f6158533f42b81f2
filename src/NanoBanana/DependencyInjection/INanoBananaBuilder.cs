using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace NanoBanana.DependencyInjection;

/// <summary>What <c>AddNanoBanana</c> returns, for further configuration.</summary>
public interface INanoBananaBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>The registration name: <see cref="Options.DefaultName"/> (empty) for the default client, or the key of a keyed client.</summary>
    string Name { get; }

    /// <summary>The HTTP client builder, to add handlers (the resilience handler is already there).</summary>
    IHttpClientBuilder HttpClient { get; }
}
