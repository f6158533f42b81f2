using System.Collections.Concurrent;
using NanoBanana.Catalog;

namespace NanoBanana.Emulator;

// Images: real PNGs at the catalog's pixel sizes in one colour scheme per tier, labelled with what produced them.
public sealed partial class NanoBananaEmulator
{
    private const int PromptWordsShown = 12;

    private readonly ConcurrentDictionary<(int, int, ImageTier), byte[]> _pngs = new();

    /// <summary>The gradient of each tier: Nano Banana yellow, Nano Banana 2 orange to red, Pro purple to indigo.</summary>
    internal static ((byte R, byte G, byte B) From, (byte R, byte G, byte B) To) TierColours(ImageTier tier) => tier switch
    {
        ImageTier.NanoBanana => ((255, 225, 53), (255, 170, 0)),
        ImageTier.NanoBanana2 => ((255, 140, 0), (200, 60, 20)),
        _ => ((110, 40, 170), (30, 10, 80)),
    };

    /// <summary>The lines drawn on a job's image.</summary>
    internal static IReadOnlyList<string> LabelOf(ImageModel model, string id, ImageSize size, AspectRatio ratio, PixelSize pixels, string prompt)
    {
        var words = prompt.Split((char[]?)null, PromptWordsShown + 1, StringSplitOptions.RemoveEmptyEntries);
        var shown = string.Join(' ', words.Take(PromptWordsShown)) + (words.Length > PromptWordsShown ? " ..." : "");
        return
        [
            $"{model.DisplayName} - {model.Id}",
            $"{size} {ratio} {pixels.Width}x{pixels.Height}",
            $"id {id}",
            $"\"{shown}\"",
            "NanoBanana emulator",
        ];
    }

    private byte[] Png(JobRecord job)
    {
        var (from, to) = TierColours(job.Model.Tier);
        if (!_options.LabelImages)
        {
            return _pngs.GetOrAdd((job.Pixels.Width, job.Pixels.Height, job.Model.Tier), key => PngWriter.Gradient(key.Item1, key.Item2, from, to));
        }

        // Made on each download rather than kept: a labelled image is unique to its job, and the emulator may serve
        // thousands of jobs. Only the label's band differs from row to row, so this stays cheap.
        return PngWriter.Gradient(job.Pixels.Width, job.Pixels.Height, from, to, LabelOf(job.Model, job.Id, job.Size, job.Ratio, job.Pixels, job.Prompt));
    }
}
