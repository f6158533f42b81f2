namespace NanoBanana.Emulator;

/// <summary>A file uploaded to the emulator.</summary>
/// <param name="FileName">The (sanitised) file name it was uploaded as.</param>
/// <param name="MediaType">The image type recognised from its first bytes.</param>
/// <param name="Bytes">The content.</param>
public sealed record UploadedMedia(string FileName, string MediaType, byte[] Bytes);
