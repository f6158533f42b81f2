using NanoBanana.Catalog;
using NanoBanana.Diagnostics;
using NanoBanana.Protocol;

namespace NanoBanana;

/// <summary>
/// A finished image: a URL to download, or inline bytes. Nothing downloaded is kept: each <see cref="CopyToAsync"/>,
/// <see cref="SaveAsync"/> or <see cref="GetBytesAsync"/> of a URL output downloads it again (outputs are not billed,
/// but a 4K image is megabytes): to use the bytes twice, keep what <see cref="GetBytesAsync"/> returns.
/// </summary>
public sealed class GeneratedImage
{
    private readonly NanoBananaProtocolClient? _protocol;
    private readonly string _output;
    private readonly string? _modelId;

    /// <summary>Creates an image of a completed prediction; inline outputs are decoded (bounded) and URLs checked against the output policy.</summary>
    /// <exception cref="OutputUnavailableException">The output is not decodable, not an image, or its URL is refused.</exception>
    /// <exception cref="ResponseLimitExceededException">The inline image is larger than the limit.</exception>
    internal GeneratedImage(NanoBananaProtocolClient? protocol, string output, bool isNsfw, PixelSize? expectedSize, string? predictionId = null, int index = 0, string? modelId = null)
    {
        _protocol = protocol;
        _modelId = modelId;
        _output = output;
        IsNsfw = isNsfw;
        ExpectedSize = expectedSize;
        PredictionId = predictionId;
        Index = index;
        if (OutputDecoder.LooksLikeUrl(output, protocol?.BaseUrl, out var uri))
        {
            if (protocol?.CheckOutputUrl(uri) is { } refused)
            {
                throw OutputDecoder.Unavailable(predictionId, index, $"its URL {protocol.Redactor.Clean(uri.GetLeftPart(UriPartial.Path))} is refused ({refused})", null);
            }

            Uri = uri;
        }
        else
        {
            var decoded = OutputDecoder.DecodeInline(output, protocol?.Limits.MaxImageBytes ?? long.MaxValue, protocol?.Setting("Limits:MaxImageBytes") ?? ProtocolOptions.DefaultSettingsPath + ":Limits:MaxImageBytes", predictionId, index);
            Data = decoded.Bytes;
            MediaType = decoded.MediaType;
        }
    }

    /// <summary>
    /// The output URL (CDN), absolute: one the service sent relative to its origin (<c>/files/a.png</c>) is resolved against
    /// the API's base URL. Null for inline outputs. Providers keep outputs for a limited time: download promptly.
    /// </summary>
    public Uri? Uri { get; }

    /// <summary>The bytes of an inline (base64) output; empty for URL outputs.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Whether the bytes are inline.</summary>
    public bool IsInline => Uri is null;

    /// <summary>The media type when known (inline outputs are sniffed; URL outputs learn it on download).</summary>
    public string? MediaType { get; private set; }

    /// <summary>The service's NSFW flag for this output.</summary>
    public bool IsNsfw { get; }

    /// <summary>The pixel size the catalog expects for this model, size and ratio.</summary>
    public PixelSize? ExpectedSize { get; }

    /// <summary>The prediction that produced the image, when known (errors while fetching it carry it too).</summary>
    public string? PredictionId { get; }

    /// <summary>
    /// A file name for this image that is one path segment on every file system: <paramref name="prefix"/>, the
    /// prediction id ("image" when unknown) and, from the second output on, "-" and its index, then
    /// <paramref name="extension"/>. Characters a file system refuses, path separators and ':' become '_', and a name
    /// that had to change gets a short hash, so an id a service chose (<c>../../x</c>, <c>/etc/x</c>) cannot name a
    /// path outside the folder the image is saved in.
    /// </summary>
    /// <param name="prefix">Text before the id, such as "poster-".</param>
    /// <param name="extension">The extension with its dot, letters and digits only; "" for none.</param>
    /// <exception cref="ArgumentException"><paramref name="extension"/> is not a dot followed by letters and digits.</exception>
    public string SuggestFileName(string? prefix = null, string extension = ".png")
    {
        ArgumentNullException.ThrowIfNull(extension);
        if (extension.Length > 0 && (extension.Length == 1 || extension[0] != '.' || !extension.Skip(1).All(char.IsAsciiLetterOrDigit)))
        {
            throw new ArgumentException($"The extension must be a dot followed by letters and digits (as \".png\"), not \"{extension}\".", nameof(extension));
        }

        return FileNames.Segment((prefix ?? "") + (PredictionId ?? "image") + (Index > 0 ? "-" + Index.ToString(System.Globalization.CultureInfo.InvariantCulture) : "")) + extension;
    }

    /// <summary>The index of this output in its prediction.</summary>
    public int Index { get; }

    /// <summary>
    /// Writes the image to a stream as it arrives (never buffering it whole); returns the media type. Downloads are
    /// bounded by <see cref="LimitOptions.MaxImageBytes"/> and <see cref="LimitOptions.DownloadTimeout"/>.
    /// </summary>
    /// <exception cref="OutputUnavailableException">The download failed, timed out, or is not an image (carries the prediction id).</exception>
    /// <exception cref="ResponseLimitExceededException">The image is larger than the limit.</exception>
    public async Task<string> CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (IsInline)
        {
            await destination.WriteAsync(Data, cancellationToken).ConfigureAwait(false);
            return MediaType ?? "application/octet-stream";
        }

        if (_protocol is null)
        {
            throw new InvalidOperationException("This image has no client to download it with.");
        }

        try
        {
            MediaType = await _protocol.DownloadAsync(_output, destination, PredictionId, Index, cancellationToken).ConfigureAwait(false);
        }
        catch (NanoBananaException ex) when (PredictionId is not null && _modelId is not null && ex.KnowModel(PredictionId, _modelId))
        {
            throw; // never reached: the filter records the model, for resuming
        }

        return MediaType;
    }

    /// <summary>
    /// Saves the image to a file, streaming it to a temporary file beside the target that replaces it only once the
    /// whole image arrived (a failed download leaves no partial file); returns the media type. A symbolic link is
    /// followed, so the file it names is replaced and the link kept.
    /// </summary>
    /// <exception cref="IOException">The path is a folder, or (on Unix) under <c>/dev</c>, <c>/proc</c> or <c>/sys</c>, whose files a rename would replace; or the file cannot be written.</exception>
    public async Task<string> SaveAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = ReplaceableFile.Resolve(path);
        var directory = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var temporary = full + "." + Guid.NewGuid().ToString("N")[..8] + ".partial";
        try
        {
            string mediaType;
            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                mediaType = await CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, full, overwrite: true);
            return mediaType;
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>The image bytes (downloads URL outputs, within <see cref="LimitOptions.MaxImageBytes"/>).</summary>
    public async Task<byte[]> GetBytesAsync(CancellationToken cancellationToken = default)
    {
        if (IsInline)
        {
            return Data.ToArray();
        }

        using var buffer = new MemoryStream();
        await CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <inheritdoc />
    public override string ToString() => IsInline ? $"inline {MediaType} ({Data.Length} bytes)" : Uri!.ToString();
}
