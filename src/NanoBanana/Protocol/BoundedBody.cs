using System.Net.Http.Headers;

namespace NanoBanana.Protocol;

/// <summary>Reads response bodies with a size bound: Content-Length is checked first, then every chunk as it arrives.</summary>
internal static class BoundedBody
{
    private const int Chunk = 16 * 1024;

    /// <summary>Thrown inside the library when a body passes its bound; turned into <see cref="ResponseLimitExceededException"/> with context.</summary>
    internal sealed class TooLargeException(long limit, long? announced) : Exception($"The response body is larger than {limit} bytes{(announced is { } a ? $" (Content-Length {a})" : "")}.")
    {
        public long Limit { get; } = limit;
    }

    /// <summary>
    /// What a body read that failed had received: its first bytes (at most <see cref="MaxKept"/>), in which a submit's
    /// answer may already have named its prediction.
    /// </summary>
    internal sealed class ReceivedPart
    {
        /// <summary>The most bytes kept: far more than any answer needs before its id.</summary>
        public const int MaxKept = 64 * 1024;

        /// <summary>The first bytes received before the read failed; empty until then.</summary>
        public byte[] Bytes { get; private set; } = [];

        // Keeps the start of what was read; false, so that it can run as an exception filter (nothing unwound yet).
        internal bool Keep(ReadOnlySpan<byte> read)
        {
            Bytes = read[..Math.Min(read.Length, MaxKept)].ToArray();
            return false;
        }
    }

    /// <summary>
    /// Reads the whole body, or throws <see cref="TooLargeException"/> once it passes <paramref name="limit"/> bytes. When
    /// the read fails (too large, cut off, timed out), <paramref name="received"/> keeps the start of what had arrived.
    /// </summary>
    public static async Task<byte[]> ReadAsync(HttpContent content, long limit, CancellationToken cancellationToken, ReceivedPart? received = null)
    {
        var announced = content.Headers.ContentLength;
        if (announced > limit)
        {
            if (received is not null)
            {
                // Refused on its announced length, but its first bytes may name a paid prediction: read those alone.
                var (start, _) = await ReadPrefixAsync(content, ReceivedPart.MaxKept, cancellationToken).ConfigureAwait(false);
                received.Keep(start);
            }

            throw new TooLargeException(limit, announced);
        }

        if (content is BufferedContent buffered)
        {
            return buffered.Bytes;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var disposing = stream.ConfigureAwait(false);
        return await ReadAsync(stream, limit, announced, cancellationToken, received).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads <paramref name="stream"/> to its end, or throws <see cref="TooLargeException"/> once it passes
    /// <paramref name="limit"/> bytes, having read at most one byte more than the limit. Left open.
    /// </summary>
    /// <param name="stream">What to read.</param>
    /// <param name="limit">The most bytes accepted.</param>
    /// <param name="announced">The length the sender announced, if any (sizes the buffer; reported when too large).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <param name="received">When given, keeps the start of what had arrived if the read fails.</param>
    public static async Task<byte[]> ReadAsync(Stream stream, long limit, long? announced, CancellationToken cancellationToken, ReceivedPart? received = null)
    {
        using var buffer = new MemoryStream(announced is { } n ? (int)Math.Min(n, limit) : (int)Math.Min(Chunk, limit));
        var chunk = new byte[Chunk];
        int read;
        try
        {
            while ((read = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(Chunk, limit + 1 - buffer.Length)), cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit)
                {
                    throw new TooLargeException(limit, announced);
                }
            }
        }
        catch (Exception) when (received is not null && received.Keep(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
        {
            throw; // never reached: Keep only records what had arrived
        }

        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes and drops the rest (error bodies); says whether it was cut.</summary>
    public static async Task<(byte[] Bytes, bool Cut)> ReadPrefixAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        if (content is BufferedContent buffered)
        {
            return (buffered.Bytes.Length <= limit ? buffered.Bytes : buffered.Bytes[..limit], buffered.Bytes.Length > limit || buffered.Cut);
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var disposing = stream.ConfigureAwait(false);
        var buffer = new byte[limit];
        var total = 0;
        int read;
        while (total < limit && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
        }

        var cut = total == limit && await stream.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) > 0;
        return (total == limit ? buffer : buffer[..total], cut);
    }

    /// <summary>A body already read into memory (by the resilience handler, inside the attempt's timeout).</summary>
    internal sealed class BufferedContent : ByteArrayContent
    {
        public BufferedContent(byte[] bytes, bool cut, HttpContentHeaders original)
            : base(bytes)
        {
            Bytes = bytes;
            Cut = cut;
            foreach (var header in original)
            {
                if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
            }
        }

        public byte[] Bytes { get; }

        /// <summary>Whether the body was longer than what was kept (error bodies keep a prefix).</summary>
        public bool Cut { get; }
    }
}
