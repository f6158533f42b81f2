using Microsoft.Extensions.DependencyInjection;

namespace NanoBanana.DependencyInjection;

internal sealed record NanoBananaBuilder(IServiceCollection Services, string Name, IHttpClientBuilder HttpClient) : INanoBananaBuilder;
