using NanoBanana.Batch;
using NanoBanana.Catalog;

namespace NanoBanana.Tests;

/// <summary>The JSON-lines job file: every field read, and a line that holds the wrong thing named by its property.</summary>
public class BatchJobFileTests
{
    [Fact]
    public void A_line_with_every_field_is_read_as_written()
    {
        var line = BatchJobFile.Parse(3, """{"key": "sku-1", "prompt": "a mug", "size": "2K", "ratio": "3:4", "typography": true, "complex": false, "grounding": true, "stylized": false, "priority": "cost", "maxCost": 0.12, "tier": "NanoBananaPro", "images": ["https://i.example/a.png"], "faces": ["https://i.example/f.png"]}""", "/tmp");
        Assert.Null(line.Error);
        var job = line.Job!;
        Assert.Equal("sku-1", job.Key);
        Assert.Equal("a mug", job.Job.Prompt);
        Assert.Equal(ImageSize.TwoK, job.Job.Size);
        Assert.Equal(AspectRatio.Parse("3:4"), job.Job.AspectRatio);
        Assert.True(job.Job.TypographyCritical);
        Assert.True(job.Job.ImageSearchGrounding);
        Assert.Equal(RoutingPriority.Cost, job.Job.Priority);
        Assert.Equal(0.12m, job.Job.MaxCostUsd);
        Assert.Equal(ImageTier.NanoBananaPro, job.Job.PinnedTier);
        Assert.Equal([ReferenceKind.Other, ReferenceKind.Face], job.Job.ReferenceImages.Select(i => i.Kind));

        var minimal = BatchJobFile.Parse(7, """{"prompt": "x", "maxCost": null, "typography": null}""", "/tmp");
        Assert.Equal("line-7", minimal.Job!.Key);
        Assert.Null(minimal.Job.Job.MaxCostUsd);
        Assert.False(minimal.Job.Job.TypographyCritical);
    }

    [Theory]
    [InlineData("""{"prompt": 5}""", "line 4: \"prompt\" must be a string (got a number)")]
    [InlineData("""{"prompt": "x", "key": ["a"]}""", "line 4: \"key\" must be a string (got a list)")]
    [InlineData("""{"prompt": "x", "typography": "yes"}""", "line 4: \"typography\" must be true or false (got a string)")]
    [InlineData("""{"prompt": "x", "grounding": 1}""", "line 4: \"grounding\" must be true or false (got a number)")]
    [InlineData("""{"prompt": "x", "maxCost": "0.12"}""", "line 4: \"maxCost\" must be a number of US dollars, such as 0.12 (got a string)")]
    [InlineData("""{"prompt": "x", "maxCost": 1e400}""", "line 4: \"maxCost\" must be a number of US dollars, such as 0.12 (got a number out of range)")]
    [InlineData("""{"prompt": "x", "images": [5]}""", "line 4: \"images\" has an entry that is not an image URL or file (got a number)")]
    [InlineData("""{"prompt": "x", "faces": [""]}""", "line 4: \"faces\" has an entry that is not an image URL or file (got an empty string)")]
    [InlineData("""{"prompt": "x", "objects": "a.png"}""", "line 4: \"objects\" is a list of image URLs or files")]
    [InlineData("""{"prompt": "x", "tier": "Huge"}""", "line 4: \"tier\": 'Huge' is not one of NanoBanana, NanoBanana2, NanoBananaPro")]
    [InlineData("""["x"]""", "line 4: a job is a JSON object")]
    [InlineData("""{"prompt": "x",""", "line 4: not valid JSON")]
    public void A_line_that_holds_the_wrong_thing_is_reported_with_its_number_and_property(string text, string expected)
    {
        var line = BatchJobFile.Parse(4, text, "/tmp");
        Assert.Null(line.Job);
        Assert.StartsWith(expected, line.Error, StringComparison.Ordinal);
    }
}
