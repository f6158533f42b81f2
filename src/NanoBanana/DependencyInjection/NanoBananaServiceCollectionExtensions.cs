using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NanoBanana.Protocol;

namespace NanoBanana.DependencyInjection;

/// <summary>Registers the Nano Banana client with dependency injection.</summary>
public static class NanoBananaServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="INanoBananaClient"/> (singleton) bound to a configuration section (usually
    /// <c>configuration.GetSection("NanoBanana")</c>): <c>ApiKey</c>, <c>BaseUrl</c>, <c>Provider</c>, <c>Catalog</c>,
    /// <c>Polling</c>, <c>Retry</c>, … Options are validated at startup.
    /// </summary>
    public static INanoBananaBuilder AddNanoBanana(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddNanoBananaCore(Options.DefaultName, section, null);
    }

    /// <summary>Registers <see cref="INanoBananaClient"/> (singleton) configured in code. Options are validated at startup.</summary>
    public static INanoBananaBuilder AddNanoBanana(this IServiceCollection services, Action<NanoBananaOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddNanoBananaCore(Options.DefaultName, null, configure);
    }

    /// <summary>
    /// Registers a keyed <see cref="INanoBananaClient"/> for another provider or account, side by side with others:
    /// resolve it with <c>[FromKeyedServices("name")]</c> or <c>GetRequiredKeyedService&lt;INanoBananaClient&gt;("name")</c>.
    /// </summary>
    public static INanoBananaBuilder AddNanoBanana(this IServiceCollection services, string name, IConfiguration? section, Action<NanoBananaOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return services.AddNanoBananaCore(name, section, configure);
    }

    private static NanoBananaBuilder AddNanoBananaCore(this IServiceCollection services, string name, IConfiguration? section, Action<NanoBananaOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);

        // A second call for the same name (a library of the app's and the app itself, say) adds its configuration to
        // the first's, as options do, but not a second transport: the named HttpClient got a second resilience handler,
        // so every retry budget was squared (a poll answered 503 was tried up to 25 times instead of 5).
        var first = !services.Any(d => d.ImplementationInstance is NanoBananaOptionsValidator v && v.Name == name);
        var options = services.AddOptions<NanoBananaOptions>(name);
        if (section is not null)
        {
            // ReferenceImageUploader is a service, never configuration: the generated binder leaves it alone (the
            // project silences SYSLIB1100/1101, which say exactly that).
            options.Bind(section);
            services.AddSingleton<IValidateOptions<NanoBananaOptions>>(new ConfigurationKeyCheck(name, section));

            // Runtime messages name a setting where this client reads it (Images:Print:Limits:MaxImageBytes), as the
            // startup checks do; before, every client was told of NanoBanana:…, a key it never reads.
            if (section is IConfigurationSection { Path.Length: > 0 } bound)
            {
                options.Configure(o => o.SettingsPath = bound.Path);
            }
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        // An uploader registered in the container (keyed by the client's name for a keyed client) serves local images.
        options.Configure<IServiceProvider>((o, sp) => o.ReferenceImageUploader ??= string.IsNullOrEmpty(name)
            ? sp.GetService<IReferenceImageUploader>()
            : sp.GetKeyedService<IReferenceImageUploader>(name) ?? sp.GetService<IReferenceImageUploader>());

        options.ValidateOnStart();
        if (first)
        {
            services.AddSingleton<IValidateOptions<NanoBananaOptions>>(new NanoBananaOptionsValidator(name, (section as IConfigurationSection)?.Path));
        }

        var httpClientName = string.IsNullOrEmpty(name) ? "NanoBanana" : $"NanoBanana:{name}";
        var http = services.AddHttpClient(httpClientName);
        if (!first)
        {
            return new NanoBananaBuilder(services, name, http);
        }

        http.ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            // The client is a singleton that keeps its HttpClient: connections are recycled by the primary handler,
            // not by the factory's handler rotation.
            .ConfigurePrimaryHttpMessageHandler(NanoBananaResilienceHandler.CreatePrimaryHandler)
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // Runs before the handlers of this client and after those added for every client, whatever the order of the calls.
            .ConfigureAdditionalHttpMessageHandlers((handlers, sp) => LeaveOutAppWideResilience(handlers, sp, httpClientName))
            .AddHttpMessageHandler(sp => new NanoBananaResilienceHandler(
                sp.GetRequiredService<IOptionsMonitor<NanoBananaOptions>>().Get(name).Retry,
                sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>()?.CreateLogger<NanoBananaResilienceHandler>()));

        // Around every handler, the app's included: a submit whose body a handler read as a string goes out as a copy that
        // counts its sends, and a download leaves without the credentials an app may add to every request.
        services.AddSingleton<IHttpMessageHandlerBuilderFilter>(new PipelineEnds(httpClientName));

        // The key travels in Authorization, and IHttpClientFactory's Trace logs list the request headers. They are
        // redacted by default, but a caller who names their own headers with RedactLoggedHeaders replaces that
        // default, and the key went into the log in full. Whatever else is configured, Authorization stays redacted
        // (post-configuration runs after every RedactLoggedHeaders call).
        services.PostConfigure<HttpClientFactoryOptions>(httpClientName, o =>
        {
            var configured = o.ShouldRedactHeaderValue;
            o.ShouldRedactHeaderValue = header => string.Equals(header, "Authorization", StringComparison.OrdinalIgnoreCase) || configured(header);
        });

        // The client reads its options once; only its key follows a configuration that reloads (a key rotated in a vault).
        NanoBananaClient Create(IServiceProvider sp)
        {
            var monitor = sp.GetRequiredService<IOptionsMonitor<NanoBananaOptions>>();
            var client = new NanoBananaClient(
                monitor.Get(name),
                sp.GetRequiredService<IHttpClientFactory>().CreateClient(httpClientName),
                sp.GetService<ILoggerFactory>(),
                sp.GetService<TimeProvider>());
            client.FollowApiKey(monitor, name ?? Options.DefaultName);
            return client;
        }

        if (string.IsNullOrEmpty(name))
        {
            services.TryAddSingleton(Create);
            services.TryAddSingleton<INanoBananaClient>(sp => sp.GetRequiredService<NanoBananaClient>());
        }
        else
        {
            services.AddKeyedSingleton<NanoBananaClient>(name, (sp, _) => Create(sp));
            services.AddKeyedSingleton<INanoBananaClient>(name, (sp, key) => sp.GetRequiredKeyedService<NanoBananaClient>(key));
        }

        return new NanoBananaBuilder(services, name, http);
    }

    /// <summary>
    /// Puts <see cref="SubmitSendGuard"/> and <see cref="CredentialFreeDownloads"/> between the named client's handlers and
    /// its transport, and the guard's announcer above them, once every configuration action has run (handlers and a
    /// primary handler of the app's, for this client or for every client), so that each handler configured for the
    /// client sits between the announcer and the other two.
    /// </summary>
    private sealed class PipelineEnds(string httpClientName) : IHttpMessageHandlerBuilderFilter
    {
        public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
        {
            next(builder);
            if (string.Equals(builder.Name, httpClientName, StringComparison.Ordinal))
            {
                builder.PrimaryHandler = new SubmitSendGuard { InnerHandler = new CredentialFreeDownloads { InnerHandler = builder.PrimaryHandler } };
                builder.AdditionalHandlers.Insert(0, new SubmitSendGuard.Announcer());
            }
        };
    }

    // Handlers that retry, hedge or time out whatever request they carry: Microsoft.Extensions.Http.Resilience's
    // (AddStandardResilienceHandler, AddStandardHedgingHandler, AddResilienceHandler) and Microsoft.Extensions.Http.Polly's
    // (AddPolicyHandler, AddTransientHttpErrorPolicy). Known by name, so the SDK depends on neither package.
    private static readonly string[] GenericResilienceHandlers =
    [
        "Microsoft.Extensions.Http.Resilience.ResilienceHandler",
        "Microsoft.Extensions.Http.PolicyHttpMessageHandler",
    ];

    /// <summary>
    /// Leaves a generic resilience handler added for every HttpClient of the app (ConfigureHttpClientDefaults, as the .NET
    /// Aspire service defaults do) out of this client's pipeline. Around the SDK's handler it would repeat a submit the
    /// service may have accepted (a 500, a timeout), paying twice for one job, and its timeouts (10 s an attempt, 30 s in
    /// all, by default) would cut sync-mode submits (and polls carrying an inline image) short. Handlers added to this
    /// client itself come later and stay; the submit's body refuses to leave twice whatever repeats it
    /// (<see cref="SubmitContent"/>).
    /// </summary>
    internal static void LeaveOutAppWideResilience(IList<DelegatingHandler> handlers, IServiceProvider services, string httpClientName)
    {
        List<string>? left = null;
        for (var i = handlers.Count - 1; i >= 0; i--)
        {
            if (IsGenericResilience(handlers[i].GetType()))
            {
                (left ??= []).Insert(0, handlers[i].GetType().FullName!);
                handlers.RemoveAt(i);
            }
        }

        if (left is not null && services.GetService<ILoggerFactory>()?.CreateLogger<NanoBananaClient>() is { } logger)
        {
            Diagnostics.Log.AppWideResilienceLeftOut(Diagnostics.NonThrowingLogger.Wrap(logger)!, httpClientName, string.Join(", ", left));
        }

        static bool IsGenericResilience(Type? type)
        {
            for (; type is not null && type != typeof(DelegatingHandler); type = type.BaseType)
            {
                if (Array.IndexOf(GenericResilienceHandlers, type.FullName) >= 0)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
