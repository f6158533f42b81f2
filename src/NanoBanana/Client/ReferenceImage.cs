using System.Globalization;
using NanoBanana.Protocol;

namespace NanoBanana;

/// <summary>
/// An input image for an edit: a URL the service fetches, or a local image (<see cref="FromFile"/>,
/// <see cref="FromBytes"/>) that the client uploads through an <see cref="IReferenceImageUploader"/> before the submit.
/// Local images are checked when they are created: an image type recognised by its first bytes (PNG, JPEG, WebP,
/// GIF, BMP, TIFF) and at most <see cref="MaxLocalBytes"/>.
/// </summary>
public sealed record ReferenceImage
{
    /// <summary>The largest local image accepted: 20 MB, WaveSpeedAI's documented limit for image uploads.</summary>
    public const long MaxLocalBytes = 20L * 1024 * 1024;

    private readonly ReadOnlyMemory<byte> _bytes;

    /// <summary>A reference image by URL.</summary>
    /// <param name="url">An absolute http(s) URL the service can fetch.</param>
    /// <param name="kind">What the image is for.</param>
    public ReferenceImage(Uri url, ReferenceKind kind = ReferenceKind.Other)
    {
        ArgumentNullException.ThrowIfNull(url);
        Url = url;
        Kind = kind;
    }

    private ReferenceImage(ReadOnlyMemory<byte> bytes, string? filePath, string fileName, string mediaType, long length, ReferenceKind kind)
    {
        _bytes = bytes;
        FilePath = filePath;
        FileName = fileName;
        MediaType = mediaType;
        Length = length;
        Kind = kind;
    }

    /// <summary>The URL the service fetches; null for a local image that has not been uploaded.</summary>
    public Uri? Url { get; }

    /// <summary>What the image is for.</summary>
    public ReferenceKind Kind { get; }

    /// <summary>Whether this is a local image (file or bytes) that must be uploaded before the submit.</summary>
    public bool IsLocal => Url is null;

    /// <summary>The file a local image is read from (<see cref="FromFile"/>), else null.</summary>
    public string? FilePath { get; }

    /// <summary>A file name for the upload ("me.png"); null for a URL.</summary>
    public string? FileName { get; }

    /// <summary>The media type recognised from the image's first bytes ("image/png"); null for a URL.</summary>
    public string? MediaType { get; }

    /// <summary>The size of a local image in bytes; null for a URL.</summary>
    public long? Length { get; }

    /// <summary>A face reference by URL.</summary>
    public static ReferenceImage Face(string url) => new(new Uri(url), ReferenceKind.Face);

    /// <summary>An object reference by URL.</summary>
    public static ReferenceImage Object(string url) => new(new Uri(url), ReferenceKind.Object);

    /// <summary>Any other input image by URL.</summary>
    public static ReferenceImage Other(string url) => new(new Uri(url));

    /// <summary>
    /// An http(s) URL as it is (the service fetches it); anything else as a local file (<see cref="FromFile"/>), uploaded
    /// before the submit.
    /// </summary>
    /// <param name="urlOrPath">An http(s) URL or a file path.</param>
    /// <param name="kind">What the image is for.</param>
    /// <param name="relativeTo">The folder a relative path is taken from (default: the current directory).</param>
    /// <exception cref="FileNotFoundException">A path, and the file does not exist.</exception>
    /// <exception cref="ArgumentException">A path to a file that is empty, too large, or not an image.</exception>
    public static ReferenceImage FromUrlOrFile(string urlOrPath, ReferenceKind kind = ReferenceKind.Other, string? relativeTo = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(urlOrPath);
        return Uri.TryCreate(urlOrPath, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp)
            ? new ReferenceImage(url, kind)
            : FromFile(relativeTo is null ? urlOrPath : Path.Combine(relativeTo, urlOrPath), kind);
    }

    /// <summary>
    /// A local image file. Its size and type are checked now (reading only its first bytes); its content is read when
    /// it is uploaded, and checked again then.
    /// </summary>
    /// <param name="path">The file's path.</param>
    /// <param name="kind">What the image is for.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a folder, or the file is empty, larger than <see cref="MaxLocalBytes"/>, or not an image by its first bytes.</exception>
    public static ReferenceImage FromFile(string path, ReferenceKind kind = ReferenceKind.Other)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (!info.Exists)
        {
            throw Directory.Exists(full)
                ? new ArgumentException($"Reference image file '{path}' is a folder; give the path of an image file in it.", nameof(path))
                : new FileNotFoundException($"Reference image file '{path}' does not exist.", full);
        }

        CheckLength(info.Length, $"Reference image file '{path}'", nameof(path));
        Span<byte> head = stackalloc byte[16];
        int read;
        using (var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        var mediaType = Sniff(head[..read]) ?? throw NotAnImage($"Reference image file '{path}'", nameof(path));
        return new ReferenceImage(ReadOnlyMemory<byte>.Empty, full, info.Name, mediaType, info.Length, kind);
    }

    /// <summary>A local image from bytes in memory (kept, not copied).</summary>
    /// <param name="bytes">The encoded image.</param>
    /// <param name="mediaType">Its media type ("image/png"); it must agree with the bytes.</param>
    /// <param name="kind">What the image is for.</param>
    /// <param name="fileName">A file name for the upload; default "image" with the type's extension.</param>
    /// <exception cref="ArgumentException">Empty, larger than <see cref="MaxLocalBytes"/>, not an image by its first bytes, or not of <paramref name="mediaType"/>.</exception>
    public static ReferenceImage FromBytes(ReadOnlyMemory<byte> bytes, string mediaType, ReferenceKind kind = ReferenceKind.Other, string? fileName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(mediaType);
        CheckLength(bytes.Length, "The reference image", nameof(bytes));
        var sniffed = Sniff(bytes.Span) ?? throw NotAnImage("The reference image", nameof(bytes));
        var declared = mediaType.Trim().ToLowerInvariant() switch
        {
            "image/jpg" => "image/jpeg",
            "image/tif" => "image/tiff",
            var t => t,
        };
        if (declared != sniffed)
        {
            throw new ArgumentException($"The reference image is declared as {mediaType} but its first bytes are those of {sniffed}.", nameof(mediaType));
        }

        return new ReferenceImage(bytes, null, string.IsNullOrWhiteSpace(fileName) ? "image" + Extension(sniffed) : Path.GetFileName(fileName), sniffed, bytes.Length, kind);
    }

    /// <summary>The content of a local image, for an uploader. A file is read now and checked again (it may have changed).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="InvalidOperationException">This is a URL reference.</exception>
    /// <exception cref="InvalidDataException">The file changed into something that is no longer an acceptable image.</exception>
    public async Task<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (!IsLocal)
        {
            throw new InvalidOperationException($"{Url} is a URL reference; there is nothing local to read.");
        }

        if (FilePath is null)
        {
            return _bytes;
        }

        CheckLength(new FileInfo(FilePath).Length, $"Reference image file '{FilePath}'", null);
        byte[] bytes;
        try
        {
            // Bounded: a file that grew (or was swapped for another) since the check above is still read no further.
            var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
            await using var disposing = stream.ConfigureAwait(false);
            bytes = await Protocol.BoundedBody.ReadAsync(stream, MaxLocalBytes, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Protocol.BoundedBody.TooLargeException)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Reference image file '{FilePath}' grew past the limit of {MaxLocalBytes:N0} bytes (20 MB, ReferenceImage.MaxLocalBytes) since it was added."));
        }

        CheckLength(bytes.Length, $"Reference image file '{FilePath}'", null);
        if (Sniff(bytes) != MediaType)
        {
            throw new InvalidDataException($"Reference image file '{FilePath}' changed since it was added and is no longer {MediaType}.");
        }

        return bytes;
    }

    /// <summary>The same reference, now at the URL an uploader returned.</summary>
    internal ReferenceImage Uploaded(Uri url) => new(url, Kind);

    /// <summary>"https://…/me.png (Face)" or "me.png (local image/png, 12,345 bytes, Face)".</summary>
    public override string ToString() => IsLocal
        ? string.Create(CultureInfo.InvariantCulture, $"{FileName} (local {MediaType}, {Length:N0} bytes, {Kind})")
        : $"{Url} ({Kind})";

    /// <summary>The image type by its first bytes, or null: PNG, JPEG, WebP, GIF, BMP or TIFF.</summary>
    internal static string? Sniff(ReadOnlySpan<byte> bytes) => OutputDecoder.SniffMediaType(bytes) ?? bytes switch
    {
        [(byte)'B', (byte)'M', ..] when bytes.Length >= 14 => "image/bmp",
        [(byte)'I', (byte)'I', 42, 0, ..] or [(byte)'M', (byte)'M', 0, 42, ..] => "image/tiff",
        _ => null,
    };

    private static string Extension(string mediaType) => mediaType switch
    {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/webp" => ".webp",
        "image/gif" => ".gif",
        "image/bmp" => ".bmp",
        _ => ".tiff",
    };

    // Before anything is sent an argument is wrong (ArgumentException); at upload time the file changed (InvalidDataException).
    private static void CheckLength(long length, string what, string? parameter)
    {
        var problem = length == 0 ? $"{what} is empty."
            : length > MaxLocalBytes ? string.Create(CultureInfo.InvariantCulture, $"{what} is {length:N0} bytes; the limit is {MaxLocalBytes:N0} bytes (20 MB, ReferenceImage.MaxLocalBytes).")
            : null;
        if (problem is not null)
        {
            throw parameter is null ? new InvalidDataException(problem) : new ArgumentException(problem, parameter);
        }
    }

    private static ArgumentException NotAnImage(string what, string parameter) =>
        new($"{what} is not an image: its first bytes are not those of PNG, JPEG, WebP, GIF, BMP or TIFF.", parameter);
}
