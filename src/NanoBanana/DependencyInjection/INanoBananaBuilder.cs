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

    /// <summary>
    /// The HTTP client builder, to add handlers. The SDK's resilience handler is already there and retries what is safe
    /// to repeat; handlers added here run inside it. A retry or hedging handler added here cannot send a submit twice
    /// (the repeat is refused before its body leaves, also after a handler read the body as a string), and generic
    /// resilience handlers added for every client of the app (<c>ConfigureHttpClientDefaults</c>) are left out of this one.
    /// </summary>
    IHttpClientBuilder HttpClient { get; }
}
