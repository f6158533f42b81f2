using System.Collections.Concurrent;

namespace NanoBanana.Emulator;

// Images: real PNGs at the catalog's pixel sizes, one colour per tier, made once per size and tier.
public sealed partial class NanoBananaEmulator
{
    private readonly ConcurrentDictionary<(int, int, ImageTier), byte[]> _pngs = new();

    private byte[] Png(JobRecord job) => _pngs.GetOrAdd((job.Pixels.Width, job.Pixels.Height, job.Model.Tier), key => key.Item3 switch
    {
        ImageTier.NanoBanana => PngWriter.Gradient(key.Item1, key.Item2, (255, 225, 53), (255, 170, 0)),
        ImageTier.NanoBanana2 => PngWriter.Gradient(key.Item1, key.Item2, (255, 140, 0), (200, 60, 20)),
        _ => PngWriter.Gradient(key.Item1, key.Item2, (110, 40, 170), (30, 10, 80)),
    });
}
