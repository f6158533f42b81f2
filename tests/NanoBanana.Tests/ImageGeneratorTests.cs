using Microsoft.Extensions.AI;
using Moq;
using NanoBanana.Emulator;
using NanoBanana.Extensions.AI;

namespace NanoBanana.Tests;

/// <summary>
/// The Microsoft.Extensions.AI adapter when a request asks for several images, over HTTP against the emulator: a
/// prediction that does not complete never costs the others, and bad options are refused before anything is sent.
/// </summary>
public class ImageGeneratorTests
{
    [Fact]
    public async Task One_failed_prediction_of_three_keeps_the_two_completed_images()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        emulator.EnqueueFault(FaultKind.JobFailsModeration, FaultTarget.Submit);

        var ex = await Assert.ThrowsAsync<ImageGenerationIncompleteException>(() =>
            client.AsImageGenerator().GenerateAsync(new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { Count = 3 }));

        Assert.Equal(3, emulator.AcceptedSubmits);
        Assert.Equal(2, ex.Completed.Count);
        foreach (var result in ex.Completed)
        {
            Assert.True(PngWriter.ReadSize(await Assert.Single(result.Images).GetBytesAsync()).Width > 0);
        }

        var failed = Assert.IsType<PredictionFailedException>(Assert.Single(ex.Failures));
        Assert.False(string.IsNullOrEmpty(failed.PredictionId));
        Assert.Equal(failed.PredictionId, ex.PredictionId);
        Assert.Empty(ex.ResumableIds); // ended failed: refunded, nothing to resume
        Assert.StartsWith("2 of 3 images completed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, new[] { failed.PredictionId }.Concat(ex.Completed.Select(c => c.PredictionId)).Distinct().Count());
    }

    [Fact]
    public async Task A_job_from_RawRepresentationFactory_is_the_starting_point_and_the_options_are_laid_over_it()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var generator = new NanoBananaImageGenerator(client);
        var face = ReferenceImage.Face("https://img.example/face.png");
        var start = new ImageJob("unused")
        {
            Deadline = TimeSpan.FromMinutes(3), AllowFallback = false, UseSyncMode = true, WebhookUrl = new Uri("https://hooks.example/nb"),
            MaxCostUsd = 0.2m, Priority = RoutingPriority.Cost, Size = ImageSize.TwoK, OutputFormat = NanoBanana.Protocol.OutputFormat.Jpeg,
            PinnedTier = ImageTier.NanoBananaPro, ReferenceImages = [face], TypographyCritical = true,
        };

        // Nothing in the options: the job as given, with the request's prompt.
        var plain = generator.ToJob(new ImageGenerationRequest("a poster"), new ImageGenerationOptions { RawRepresentationFactory = _ => start });
        Assert.Equal(start with { Prompt = "a poster", Base64Output = true }, plain);

        // The options win where they speak; the rest stays the job's.
        var laid = generator.ToJob(
            new ImageGenerationRequest("a poster"),
            new ImageGenerationOptions
            {
                RawRepresentationFactory = _ => start, ModelId = "NanoBanana2", MediaType = "image/png", ImageSize = new System.Drawing.Size(1024, 1024),
                AdditionalProperties = new() { [NanoBananaImageGenerator.PriorityKey] = "Quality", [NanoBananaImageGenerator.MaxCostUsdKey] = "0.1" },
            });
        Assert.Equal((ImageTier.NanoBanana2, NanoBanana.Protocol.OutputFormat.Png, ImageSize.OneK, RoutingPriority.Quality, 0.1m), (laid.PinnedTier!.Value, laid.OutputFormat, laid.Size, laid.Priority, laid.MaxCostUsd!.Value));
        Assert.Equal((start.Deadline, start.AllowFallback, start.UseSyncMode, start.WebhookUrl, true), (laid.Deadline, laid.AllowFallback, laid.UseSyncMode, laid.WebhookUrl, laid.TypographyCritical));
        Assert.Same(face, Assert.Single(laid.ReferenceImages));

        // Another type from the factory (meant for another generator in the pipeline) is ignored.
        var ignored = generator.ToJob(new ImageGenerationRequest("a poster"), new ImageGenerationOptions { RawRepresentationFactory = _ => "not a job" });
        Assert.Equal(new ImageJob("a poster") { Base64Output = true, ReferenceImages = ignored.ReferenceImages }, ignored);
        Assert.Empty(ignored.ReferenceImages);

        // Over HTTP: the job's sync mode reaches the submit, and nothing else was sent.
        var response = await generator.GenerateAsync(new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { RawRepresentationFactory = _ => new ImageJob("x") { UseSyncMode = true } });
        Assert.IsType<DataContent>(Assert.Single(response.Contents));
        var submit = Assert.Single(emulator.Requests, r => r.Kind == "submit");
        Assert.Contains("\"enable_sync_mode\":true", submit.Body, StringComparison.Ordinal);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task An_original_image_given_as_bytes_is_uploaded_then_edited_on_WaveSpeed()
    {
        // The README's promise for DataContent originals, end to end: the bytes go up through WaveSpeedAI's upload, and
        // the edit names the URL it returned, marked as a face.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);
        var png = PngWriter.Gradient(16, 16, (0, 0, 0), (255, 255, 255));
        var face = new DataContent(png, "image/png") { AdditionalProperties = new() { [NanoBananaImageGenerator.ReferenceKindKey] = "face" } };

        var response = await client.AsImageGenerator().GenerateAsync(new ImageGenerationRequest("make it a watercolor", [face]));

        Assert.IsType<DataContent>(Assert.Single(response.Contents));
        var (token, media) = Assert.Single(emulator.Uploads);
        Assert.Equal(png, media.Bytes);
        var submit = Assert.Single(emulator.Requests, r => r.Kind == "submit");
        Assert.EndsWith("/edit", submit.Path);
        Assert.Contains($"/media/{token}/", submit.Body);
        Assert.Equal(1, ((ImageResult)response.RawRepresentation!).Decision!.Requirements.FaceCount);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task Ten_images_on_an_account_that_runs_three_at_once_all_complete_and_none_is_paid_twice()
    {
        // WaveSpeedAI's Bronze level runs 3 tasks at once; the other submits are refused with 429. Before 429s were
        // retried by default, 3 of 10 images completed and the other 7 were refused by all three models in turn.
        await using var emulator = await Emu.StartAsync(o => o.AccountLimits = NanoBanana.Batch.AccountLimits.WaveSpeedBronze, timeScale: 0.05);
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);

        var response = await client.AsImageGenerator().GenerateAsync(new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { Count = 10 });

        Assert.Equal(10, response.Contents.Count);
        Assert.Equal(10, emulator.AcceptedSubmits);
        Assert.Contains(emulator.Requests, r => r.Kind == "submit" && r.StatusCode == 429); // the limit was met
        Assert.All((ImageResult[])response.RawRepresentation!, r => Assert.Equal(ImageTier.NanoBanana2, r.Model.Tier)); // and waited out, not fled to a pricier model
    }

    [Fact]
    public async Task Cancelled_while_three_predictions_wait_every_id_can_be_resumed()
    {
        // Jobs run twice the catalog's longest time, so every first poll (planned inside the catalog's range) sees them running.
        await using var emulator = await Emu.StartAsync(o => o.LatencySampler = (m, _) => 2 * m.TypicalLatencyMax.TotalSeconds, timeScale: 0.05);
        using var client = Emu.Client(emulator);
        using var cts = new CancellationTokenSource();
        var generating = client.AsImageGenerator().GenerateAsync(new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { Count = 3 }, cts.Token);
        // Cancel once the client knows all three ids (each was polled); before that a submit's outcome is unknown.
        while (emulator.Requests.Where(r => r.Kind == "poll").Select(r => r.PredictionId).Distinct().Count() < 3 && !generating.IsCompleted)
        {
            await Task.Delay(5);
        }

        await cts.CancelAsync();
        var ex = await Assert.ThrowsAsync<PredictionCanceledException>(() => generating); // still an OperationCanceledException
        var incomplete = Assert.IsType<ImageGenerationIncompleteException>(ex.InnerException);
        Assert.Empty(incomplete.Completed);
        Assert.Equal(3, incomplete.Failures.Count);
        Assert.All(incomplete.Failures, f => Assert.IsType<PredictionCanceledException>(f));
        Assert.Equal(incomplete.Failures.Count, incomplete.ResumableIds.Distinct().Count());
        Assert.Contains(ex.PredictionId, incomplete.ResumableIds);

        foreach (var id in incomplete.ResumableIds)
        {
            var resumed = await client.ResumeAsync(id);
            Assert.Equal(id, resumed.PredictionId);
            Assert.Single(resumed.Images);
        }

        Assert.Equal(3, emulator.AcceptedSubmits); // nothing was sent twice
    }

    [Fact]
    public async Task A_client_that_throws_before_returning_its_task_fails_that_run_alone()
    {
        // A seam: a client (a decorator, a test double) whose second call throws synchronously, after the first run began.
        var client = new Mock<INanoBananaClient>();
        var calls = 0;
        client.Setup(c => c.GenerateAsync(It.IsAny<ImageJob>(), It.IsAny<CancellationToken>())).Returns(() =>
            Interlocked.Increment(ref calls) == 2
                ? throw new InvalidOperationException("decorator bug")
                : Task.FromResult(NanoBananaModelFactory.ImageResult(predictionId: $"p-{calls}")));

        var ex = await Assert.ThrowsAsync<ImageGenerationIncompleteException>(() =>
            new NanoBananaImageGenerator(client.Object).GenerateAsync(new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { Count = 3 }));
        Assert.Equal(2, ex.Completed.Count);
        Assert.IsType<InvalidOperationException>(Assert.Single(ex.Failures));
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task An_invalid_request_for_several_images_throws_its_own_error_and_sends_nothing()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var generator = client.AsImageGenerator();

        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => generator.GenerateAsync(
            new ImageGenerationRequest("a lamp"),
            new ImageGenerationOptions { Count = 3, AdditionalProperties = new() { [NanoBananaImageGenerator.MaxCostUsdKey] = -1m } }));
        Assert.Contains("MaxCostUsd", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => generator.GenerateAsync(new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { Count = 0 }));

        // A stray large count would start that many billed predictions at once (1,000,000 used to).
        var many = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => generator.GenerateAsync(new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { Count = NanoBananaImageGenerator.MaxCount + 1 }));
        Assert.Contains("ImageGenerationOptions.Count must be from 1 to 10 (NanoBananaImageGenerator.MaxCount), not 11", many.Message, StringComparison.Ordinal);
        Assert.Empty(emulator.Requests);
    }

    [Theory]
    [InlineData(NanoBananaImageGenerator.TypographyCriticalKey, "yes", "true or false")]
    [InlineData(NanoBananaImageGenerator.PriorityKey, "cheapest", "Balanced, Quality, Cost or Speed")]
    [InlineData(NanoBananaImageGenerator.PriorityKey, "7", "Balanced, Quality, Cost or Speed")]
    [InlineData(NanoBananaImageGenerator.MaxCostUsdKey, "five cents", "a price in USD")]
    [InlineData(NanoBananaImageGenerator.SizeKey, "8K", "0.5K, 1K, 2K or 4K")]
    [InlineData(NanoBananaImageGenerator.AspectRatioKey, "wide", "1:1 or 16:9")]
    public async Task A_property_that_does_not_parse_is_named_with_what_it_must_be(string key, string value, string expected)
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.AsImageGenerator().GenerateAsync(
            new ImageGenerationRequest("a lamp"), new ImageGenerationOptions { AdditionalProperties = new() { [key] = value } }));
        Assert.Contains($"AdditionalProperties[\"{key}\"]", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{value}\"", ex.Message, StringComparison.Ordinal);
        Assert.Empty(emulator.Requests);
    }

    [Fact]
    public async Task A_reference_kind_that_does_not_parse_is_named()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        var hand = new UriContent(new Uri("https://img.example/hand.png"), "image/png") { AdditionalProperties = new() { [NanoBananaImageGenerator.ReferenceKindKey] = "hand" } };
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.AsImageGenerator().GenerateAsync(new ImageGenerationRequest("x", [hand])));
        Assert.Contains("\"nanobanana.kind\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains("face, object or other", ex.Message, StringComparison.Ordinal);
        Assert.Empty(emulator.Requests);
    }
}
