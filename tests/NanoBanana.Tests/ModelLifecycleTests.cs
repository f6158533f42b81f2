using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NanoBanana.Catalog;
using NanoBanana.DependencyInjection;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

/// <summary>
/// Issue 12, model lifecycle: aliases, successor ids and retirement dates in the catalog; a submit refused because the
/// provider no longer knows a preview id moves once to the successor, over real loopback HTTP.
/// </summary>
public class ModelLifecycleTests
{
    [Fact]
    public void The_default_catalog_carries_the_lifecycle_of_providers_2_md()
    {
        var c = ModelCatalog.Default;
        Assert.Equal("gemini-3.1-flash-image", c[ImageTier.NanoBanana2].SuccessorId);
        Assert.Equal(new DateOnly(2026, 6, 25), c[ImageTier.NanoBanana2].RetirementDate);
        Assert.Equal("gemini-3-pro-image", c[ImageTier.NanoBananaPro].SuccessorId);
        Assert.Equal(new DateOnly(2026, 6, 25), c[ImageTier.NanoBananaPro].RetirementDate);
        Assert.Null(c[ImageTier.NanoBanana].SuccessorId);
        Assert.Equal(new DateOnly(2026, 10, 2), c[ImageTier.NanoBanana].RetirementDate);

        Assert.Same(c[ImageTier.NanoBananaPro], c.Find("gemini-3-pro-image"));
        Assert.Same(c[ImageTier.NanoBananaPro], c.Find("google/gemini-3-pro-image-preview"));
        Assert.Same(c[ImageTier.NanoBanana2], c.Find("nano-banana-2"));
        Assert.Same(c[ImageTier.NanoBanana], c.Find("nano-banana"));
        Assert.Null(c.Find("gemini-9-image"));

        var successor = c[ImageTier.NanoBananaPro].ToSuccessor();
        Assert.Equal("gemini-3-pro-image", successor.Id);
        Assert.Equal(ImageTier.NanoBananaPro, successor.Tier);
        Assert.Equal(c[ImageTier.NanoBananaPro].PricesUsd, successor.PricesUsd);
        Assert.Contains("gemini-3-pro-image-preview", successor.Aliases);
        Assert.Null(successor.SuccessorId);
        Assert.Throws<InvalidOperationException>(() => c[ImageTier.NanoBanana].ToSuccessor());
    }

    [Fact]
    public void Lifecycle_fields_bind_from_configuration_and_a_new_id_drops_the_old_successor()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["NanoBanana:ApiKey"] = "k",
            ["NanoBanana:Catalog:Models:NanoBanana:SuccessorId"] = "gemini-3-flash-image",
            ["NanoBanana:Catalog:Models:NanoBanana:RetirementDate"] = "2027-01-31",
            ["NanoBanana:Catalog:Models:NanoBanana:Aliases:0"] = "nb-classic",
            ["NanoBanana:Catalog:Models:NanoBananaPro:Id"] = "gemini-3-pro-image",
        }).Build();
        var services = new ServiceCollection();
        services.AddNanoBanana(config.GetSection("NanoBanana"));
        using var provider = services.BuildServiceProvider();
        var catalog = provider.GetRequiredService<NanoBananaClient>().Catalog;

        Assert.Equal("gemini-3-flash-image", catalog[ImageTier.NanoBanana].SuccessorId);
        Assert.Equal(new DateOnly(2027, 1, 31), catalog[ImageTier.NanoBanana].RetirementDate);
        Assert.Equal(["nb-classic"], catalog[ImageTier.NanoBanana].Aliases);
        Assert.Same(catalog[ImageTier.NanoBanana], catalog.Find("nb-classic"));
        Assert.Null(catalog[ImageTier.NanoBananaPro].SuccessorId); // the default successor belonged to the preview id
        Assert.Null(catalog[ImageTier.NanoBananaPro].RetirementDate);
        Assert.Equal("gemini-3.1-flash-image", catalog[ImageTier.NanoBanana2].SuccessorId); // untouched tier keeps its defaults
    }

    [Fact]
    public void A_name_may_belong_to_one_model_only()
    {
        var options = new ModelCatalogOptions();
        options.Models["NanoBanana"] = new ModelOverrideOptions { SuccessorId = "gemini-3-pro-image-preview" };
        var ex = Assert.Throws<ArgumentException>(() => ModelCatalog.Create(options));
        Assert.Contains("gemini-3-pro-image-preview", ex.Message);

        options.Models["NanoBanana"] = new ModelOverrideOptions { SuccessorId = "gemini-2.5-flash-image" };
        Assert.Contains("SuccessorId", Assert.Throws<ArgumentException>(() => ModelCatalog.Create(options)).Message);
    }

    [Theory]
    [InlineData(404, "model or route not found: google/gemini-3-pro-image-preview/text-to-image", true)]
    [InlineData(400, "model 'google/gemini-3-pro-image-preview' is not supported", true)]
    [InlineData(400, "gemini-3-pro-image-preview has been retired", true)]
    [InlineData(400, "aspect_ratio 8:1 is not valid for gemini-3-pro-image-preview", false)] // names the model, but not as unknown
    [InlineData(400, "model not found", false)] // does not name this model
    [InlineData(503, "model gemini-3-pro-image-preview is not available", false)] // overloaded, not unknown
    public void An_unknown_model_refusal_is_a_404_or_a_400_that_names_the_model_as_unknown(int status, string message, bool expected)
    {
        var error = new NanoBananaApiException(message) { StatusCode = (HttpStatusCode)status, ProviderMessage = message };
        Assert.Equal(expected, ProviderProfile.IsUnknownModelRefusal(error, ModelCatalog.Default[ImageTier.NanoBananaPro]));
    }

    [Theory]
    [InlineData(ApiProvider.GptProto)]
    [InlineData(ApiProvider.GptProtoUnified)]
    public async Task A_job_on_a_retired_id_completes_on_its_successor_with_one_unbilled_refusal_recorded(ApiProvider provider)
    {
        await using var emulator = await Emu.StartAsync();
        emulator.Options.UnknownModelIds.Add("gemini-3.1-flash-image-preview");
        var logs = new CapturingLoggerProvider();
        using var client = Emu.Client(emulator, o => o.Provider = provider, logs);

        var result = await client.GenerateAsync(new ImageJob("a lamp"));

        Assert.Equal("gemini-3.1-flash-image", result.Model.Id);
        Assert.Equal(ImageTier.NanoBanana2, result.Model.Tier);
        Assert.Equal(ImageTier.NanoBanana2, result.Decision!.Model.Tier); // routing and price stay per tier
        Assert.Equal(0.067m, result.EstimatedCostUsd);
        var refused = Assert.Single(result.Attempts, a => a.Outcome == AttemptOutcome.NotAccepted);
        Assert.Equal("gemini-3.1-flash-image-preview", refused.Model.Id);
        Assert.Null(refused.PredictionId);
        Assert.Contains("successor gemini-3.1-flash-image", refused.Error);
        Assert.Equal(2, emulator.Count("submit"));
        Assert.Equal(1, emulator.AcceptedSubmits); // one job, one accepted (billed) submit
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("sending the job once more as its successor gemini-3.1-flash-image"));
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());

        // The client remembers the move: the next job on the tier goes straight to the successor.
        var second = await client.GenerateAsync(new ImageJob("a chair"));
        Assert.Equal("gemini-3.1-flash-image", second.Model.Id);
        Assert.DoesNotContain(second.Attempts, a => a.Outcome == AttemptOutcome.NotAccepted);
        Assert.Equal(3, emulator.Count("submit"));

        // And a resume by the successor id names the model that ran.
        var resumed = await client.ResumeAsync(second.PredictionId, second.Model.Id);
        Assert.Equal("gemini-3.1-flash-image", resumed.Model.Id);
    }

    [Fact]
    public async Task When_the_successor_is_refused_too_the_job_fails_after_two_unbilled_submits()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.Options.UnknownModelIds.Add("gemini-3-pro-image-preview");
        emulator.Options.UnknownModelIds.Add("gemini-3-pro-image");
        using var client = Emu.Client(emulator);
        var ex = await Assert.ThrowsAnyAsync<NanoBananaApiException>(() => client.GenerateAsync(new ImageJob("a poster") { PinnedTier = ImageTier.NanoBananaPro, AllowFallback = false }));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Contains("gemini-3-pro-image", ex.Message);
        Assert.Equal(2, emulator.Count("submit"));
        Assert.Equal(0, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task WaveSpeed_sends_its_own_slug_so_an_unknown_model_is_not_moved_to_a_successor()
    {
        await using var emulator = await Emu.StartAsync();
        emulator.Options.UnknownModelIds.Add("nano-banana-2");
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);
        var ex = await Assert.ThrowsAnyAsync<NanoBananaApiException>(() => client.GenerateAsync(new ImageJob("a lamp") { AllowFallback = false }));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_model_past_its_retirement_date_logs_one_warning_per_process()
    {
        // A unique id, so that no other test in this process has warned about it already.
        var id = "gemini-retired-" + Guid.NewGuid().ToString("N")[..8];
        void Override(ModelCatalogOptions catalog) =>
            catalog.Models["NanoBanana2"] = new ModelOverrideOptions { Id = id, RetirementDate = new DateOnly(2026, 1, 31), SuccessorId = id + "-ga" };
        var emulatorOptions = new NanoBananaOptions();
        Override(emulatorOptions.Catalog);
        await using var emulator = await Emu.StartAsync(o => o.Catalog = ModelCatalog.Create(emulatorOptions.Catalog));
        var logs = new CapturingLoggerProvider();
        using var first = Emu.Client(emulator, o => Override(o.Catalog), logs);
        using var second = Emu.Client(emulator, o => Override(o.Catalog), logs);

        await first.GenerateAsync(new ImageJob("a"));
        await first.GenerateAsync(new ImageJob("b"));
        await second.GenerateAsync(new ImageJob("c"));

        var warning = Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(id) && e.Message.Contains("retirement"));
        Assert.Contains("2026-01-31", warning.Message);
        Assert.Contains($"successor {id}-ga", warning.Message);
        Assert.Equal(3, emulator.AcceptedSubmits); // the id is still sent while the provider accepts it
    }
}
