using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NanoBanana.Protocol;

namespace NanoBanana.DependencyInjection;

internal sealed record NanoBananaBuilder(IServiceCollection Services, string Name, IHttpClientBuilder HttpClient) : INanoBananaBuilder;
