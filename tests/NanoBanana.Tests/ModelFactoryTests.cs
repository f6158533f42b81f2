using Microsoft.Extensions.AI;
using Moq;
using NanoBanana.Catalog;
using NanoBanana.Emulator;
using NanoBanana.Extensions.AI;
using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana.Tests;

/// <summary>Issue 11: results, decisions, predictions and operations can be faked in users' tests without a service.</summary>
public class ModelFactoryTests
{
    [Fact]
    public async Task A_faked_result_carries_real_image_bytes_and_a_real_decision()
    {
        var png = PngWriter.Gradient(4, 3, (0, 0, 0), (255, 255, 255));
        var decision = NanoBananaModelFactory.RoutingDecision(new JobRequirements { TypographyCritical = true, Size = ImageSize.TwoK });
        var result = NanoBananaModelFactory.ImageResult([NanoBananaModelFactory.GeneratedImage(png, "image/png", "p-1")], predictionId: "p-1", decision: decision);

        Assert.Equal(ImageTier.NanoBananaPro, result.Model.Tier);
        Assert.Contains(decision.Reasons, r => r.Contains("typograph", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(png, await result.Images[0].GetBytesAsync());
        Assert.Equal("image/png", result.Images[0].MediaType);
        Assert.Equal(AttemptOutcome.Completed, Assert.Single(result.Attempts).Outcome);
        Assert.Equal(0.134m, result.EstimatedCostUsd);
        Assert.StartsWith("1 image from Nano Banana Pro, prediction p-1, ", result.ToString(), StringComparison.Ordinal);
        var two = NanoBananaModelFactory.ImageResult([result.Images[0], result.Images[0]]);
        Assert.StartsWith("2 images from ", two.ToString(), StringComparison.Ordinal);

        var byUrl = NanoBananaModelFactory.GeneratedImage(new Uri("https://cdn.example.com/a.png"));
        Assert.Equal(new Uri("https://cdn.example.com/a.png"), byUrl.Uri);
        await Assert.ThrowsAsync<InvalidOperationException>(() => byUrl.GetBytesAsync());

        var failed = NanoBananaModelFactory.Prediction("p-2", PredictionStatus.Failed, error: "boom");
        Assert.True(failed.Status.IsTerminal);
        Assert.Equal("boom", failed.Error);
    }

    [Fact]
    public async Task User_code_over_a_mocked_client_sees_a_finished_operation_and_the_ai_adapter_works_on_it()
    {
        var result = NanoBananaModelFactory.ImageResult();
        var client = new Mock<INanoBananaClient>(MockBehavior.Strict);
        client.Setup(c => c.StartGenerationAsync(It.IsAny<ImageJob>(), It.IsAny<CancellationToken>())).ReturnsAsync(NanoBananaModelFactory.CompletedOperation(result));
        client.Setup(c => c.GenerateAsync(It.IsAny<ImageJob>(), It.IsAny<CancellationToken>())).ReturnsAsync(result);
        client.SetupGet(c => c.Catalog).Returns(ModelCatalog.Default);
        client.SetupGet(c => c.Protocol).Returns((NanoBananaProtocolClient)null!);

        var operation = await client.Object.StartGenerationAsync(new ImageJob("x"));
        Assert.True(operation.HasCompleted);
        Assert.Same(result, await operation.WaitForCompletionAsync());
        Assert.Equal(result.PredictionId, operation.Id);

        var generator = client.Object.AsImageGenerator();
        var response = await generator.GenerateAsync(new ImageGenerationRequest("x"));
        var data = Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal(await result.Images[0].GetBytesAsync(), data.Data.ToArray());
    }

    [Fact]
    public async Task The_client_snapshots_its_options_at_construction()
    {
        await using var emulator = await Emu.StartAsync();
        var options = Emu.Options(emulator);
        using var client = new NanoBananaClient(options);

        options.Deadline = TimeSpan.FromTicks(1);
        options.ApiKey = "sk-changed-afterwards-000000";
        options.Polling.MaxInterval = TimeSpan.FromHours(1);
        options.Limits.AllowedOutputHosts.Add("cdn.example.com");
        options.Catalog.Models["NanoBanana2"] = new Catalog.ModelOverrideOptions { Id = "something-else" };

        Assert.NotSame(options, client.Options);
        Assert.Equal(TimeSpan.FromSeconds(30), client.Options.Deadline);
        Assert.Empty(client.Options.Limits.AllowedOutputHosts);
        Assert.False(client.Options.Catalog.Models.ContainsKey("NanoBanana2") && client.Options.Catalog.Models["NanoBanana2"].Id == "something-else");
        var result = await client.GenerateAsync(new ImageJob("still works")); // the 1-tick deadline and the new key did not reach it
        Assert.Equal("gemini-3.1-flash-image-preview", result.Model.Id);
    }
}
