using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NanoBanana.DependencyInjection;
using NanoBanana.Emulator;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

/// <summary>
/// A key rotated while the app runs (a leaked key revoked in the provider's console, the new one put in a vault that the
/// configuration reloads from), over HTTP against the emulator: the client sends the new key from its next request on,
/// waits under way included, without a restart and without sending anything twice; neither key reaches a message.
/// </summary>
public class ApiKeyRotationTests
{
    private const string OldKey = "sk-old-0123456789abcdef";
    private const string NewKey = "sk-new-fedcba9876543210";
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private static (ServiceProvider Provider, IConfigurationRoot Configuration) Registered(NanoBananaEmulator emulator, ILoggerFactory? logs = null, TimeProvider? time = null, string? name = null)
    {
        var section = name is null ? "NanoBanana" : "Providers:Second";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"{section}:ApiKey"] = OldKey }).Build();
        var services = new ServiceCollection();
        if (logs is not null)
        {
            services.AddSingleton(logs);
        }

        if (time is not null)
        {
            services.AddSingleton(time);
        }

        if (name is null)
        {
            services.AddNanoBanana(configuration.GetSection(section));
            services.Configure<NanoBananaOptions>(o => emulator.ConfigureClient(o));
        }
        else
        {
            services.AddNanoBanana(name, configuration.GetSection(section), o => emulator.ConfigureClient(o));
        }

        return (services.BuildServiceProvider(), configuration);
    }

    // The provider revokes the old key and the configuration reloads with the new one.
    private static void Rotate(NanoBananaEmulator emulator, IConfigurationRoot configuration, string section = "NanoBanana")
    {
        emulator.Options.ApiKey = NewKey;
        configuration[$"{section}:ApiKey"] = NewKey;
        configuration.Reload();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("second")]
    public async Task A_key_rotated_in_the_configuration_is_sent_from_the_next_request_on(string? name)
    {
        await using var emulator = await Emu.StartAsync(o => o.ApiKey = OldKey);
        var logs = new CapturingLoggerProvider();
        var (provider, configuration) = Registered(emulator, logs, name: name);
        await using var _ = provider;
        var client = name is null ? provider.GetRequiredService<INanoBananaClient>() : provider.GetRequiredKeyedService<INanoBananaClient>(name);
        await client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard);

        Rotate(emulator, configuration, name is null ? "NanoBanana" : "Providers:Second");
        var before = emulator.Requests.Count;
        var result = await client.GenerateAsync(new ImageJob("another lamp")).WaitAsync(Guard);

        Assert.NotEmpty(await result.Images[0].GetBytesAsync().WaitAsync(Guard));
        var after = emulator.Requests.Skip(before).Where(r => r.Kind is "submit" or "poll").ToList();
        Assert.NotEmpty(after);
        Assert.All(after, r => Assert.True(r.AuthorizationValid, $"{r.Kind} {r.Path} went with the revoked key"));
        Assert.Equal(2, emulator.Count("submit"));
        var said = logs.Entries.Where(e => e.Message.Contains("changed with the configuration", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(said);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains(name is null ? "NanoBanana:ApiKey" : "Providers:Second:ApiKey", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(OldKey, StringComparison.Ordinal) || e.Message.Contains(NewKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wait_under_way_polls_with_the_new_key_and_nothing_is_submitted_again()
    {
        await using var emulator = await Emu.StartAsync(o => o.ApiKey = OldKey);
        var time = new ManualTimeProvider();
        var (provider, configuration) = Registered(emulator, time: time);
        await using var _ = provider;
        var client = provider.GetRequiredService<INanoBananaClient>();
        var operation = await client.StartGenerationAsync(new ImageJob("a lamp")).WaitAsync(Guard);
        var wait = operation.WaitForCompletionAsync(); // asleep until its first poll: manual time stands still

        Rotate(emulator, configuration);
        await ClientTests.AdvanceUntilAsync(time, wait, TimeSpan.FromMinutes(1));

        Assert.Equal(operation.Id, (await wait).PredictionId);
        var polls = emulator.Requests.Where(r => r.Kind == "poll").ToList();
        Assert.NotEmpty(polls);
        Assert.All(polls, r => Assert.True(r.AuthorizationValid, "a poll went with the revoked key"));
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_reload_with_no_usable_key_leaves_the_client_its_key()
    {
        // The options monitor refuses options that fail validation, so an empty key never reaches the client; a key that
        // passes validation but cannot be sent never does either.
        await using var emulator = await Emu.StartAsync(o => o.ApiKey = OldKey);
        var (provider, configuration) = Registered(emulator);
        await using var _ = provider;
        var client = provider.GetRequiredService<INanoBananaClient>();
        configuration["NanoBanana:ApiKey"] = "";
        var refused = Record.Exception(configuration.Reload); // the monitor's validation, as for any options of the app
        Assert.IsAssignableFrom<Exception>(refused);
        Assert.DoesNotContain(OldKey, refused.ToString(), StringComparison.Ordinal);

        var result = await client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard);
        Assert.NotEmpty(await result.Images[0].GetBytesAsync().WaitAsync(Guard));
        Assert.All(emulator.Requests.Where(r => r.Kind is "submit" or "poll"), r => Assert.True(r.AuthorizationValid));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("sk-line\nbreak")]
    public async Task UpdateApiKey_refuses_a_key_it_cannot_send_and_keeps_its_own(string key)
    {
        await using var emulator = await Emu.StartAsync(o => o.ApiKey = OldKey);
        using var client = Emu.Client(emulator, o => o.ApiKey = OldKey);
        var ex = Assert.Throws<ArgumentException>(() => client.UpdateApiKey(key));
        Assert.Contains("the client keeps its key", ex.Message, StringComparison.Ordinal);
        Assert.Equal("apiKey", ex.ParamName);
        await client.GenerateAsync(new ImageJob("a lamp")).WaitAsync(Guard);
        Assert.All(emulator.Requests.Where(r => r.Kind is "submit" or "poll"), r => Assert.True(r.AuthorizationValid));
    }

    [Fact]
    public async Task UpdateApiKey_takes_effect_at_once_and_an_answer_that_echoes_either_key_shows_neither()
    {
        await using var emulator = await Emu.StartAsync(o => o.ApiKey = OldKey);
        using var client = Emu.Client(emulator, o => o.ApiKey = OldKey);
        emulator.Options.ApiKey = NewKey;
        var refused = await Assert.ThrowsAnyAsync<NanoBananaApiException>(() => client.GenerateAsync(new ImageJob("a lamp") { AllowFallback = false }).WaitAsync(Guard));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode); // the revoked key, refused before any job

        client.UpdateApiKey(NewKey);
        emulator.EnqueueFault(FaultKind.EchoKey, FaultTarget.Submit);
        var ex = await Assert.ThrowsAsync<PredictionFailedException>(() => client.GenerateAsync(new ImageJob("a lamp") { AllowFallback = false }).WaitAsync(Guard));
        Assert.Contains("upstream rejected the request", ex.ProviderMessage, StringComparison.Ordinal);
        foreach (var text in new[] { ex.Message, ex.ToString(), ex.ProviderMessage!, ex.RawBodyExcerpt ?? "" })
        {
            Assert.DoesNotContain(NewKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain(OldKey, text, StringComparison.Ordinal);
        }

        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public void After_a_key_change_the_redactor_hides_the_old_key_and_the_new_one_whole_even_when_one_contains_the_other()
    {
        var redactor = new SecretRedactor("sk-abc123").With("sk-abc123-rotated");
        Assert.Equal("old *** new *** cut ***", redactor.Redact("old sk-abc123 new sk-abc123-rotated cut sk-abc1", textWasCut: true));
        Assert.Equal("escaped ***", redactor.Redact("escaped \\u0073k-abc123-rotated"));
        Assert.Same(redactor, redactor.With("sk-abc123"));
    }
}
