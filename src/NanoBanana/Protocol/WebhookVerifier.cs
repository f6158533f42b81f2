using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NanoBanana.Protocol;

/// <summary>
/// Verifies WaveSpeedAI webhook deliveries: <c>webhook-signature: v3,&lt;hex HMAC-SHA256&gt;</c> over
/// <c>{webhook-id}.{webhook-timestamp}.{raw body}</c>, keyed with the secret after its <c>whsec_</c> prefix, compared in
/// constant time, and rejected when the timestamp is more than the tolerance (default 300 s) away from now.
/// </summary>
public sealed class WebhookVerifier
{
    private readonly byte[] _key;
    private readonly TimeProvider _time;

    /// <summary>Creates a verifier for a secret as returned by <c>GET webhook/secret</c> (<c>whsec_…</c>).</summary>
    public WebhookVerifier(string secret, TimeProvider? timeProvider = null, TimeSpan? tolerance = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secret);
        _key = Encoding.UTF8.GetBytes(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        _time = timeProvider ?? TimeProvider.System;
        Tolerance = tolerance ?? TimeSpan.FromSeconds(300);
    }

    /// <summary>How far the delivery timestamp may be from now. Default 300 s.</summary>
    public TimeSpan Tolerance { get; }

    /// <summary>
    /// The largest body <see cref="VerifyAsync"/> reads (bytes). Default 1 MiB: a delivery is one prediction with output
    /// URLs, a few KB; anything near this size is not a genuine delivery.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to zero or less.</exception>
    public int MaxBodyBytes
    {
        get => _maxBodyBytes;
        init => _maxBodyBytes = value > 0 && value < int.MaxValue ? value : throw new ArgumentOutOfRangeException(nameof(MaxBodyBytes), value, "MaxBodyBytes must be at least 1.");
    }

    private readonly int _maxBodyBytes = 1 << 20;

    /// <summary>Verifies a delivery and returns the prediction it carries (a bare prediction object, no envelope).</summary>
    /// <param name="webhookId">The <c>webhook-id</c> header.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header (Unix seconds).</param>
    /// <param name="signature">The <c>webhook-signature</c> header.</param>
    /// <param name="body">The raw request body, exactly as received.</param>
    /// <exception cref="WebhookVerificationException">A header is missing, the timestamp is stale, or the signature does not match.</exception>
    public Prediction Verify(string? webhookId, string? timestamp, string? signature, ReadOnlySpan<byte> body)
    {
        CheckHeaders(webhookId, timestamp, signature);
        return VerifySignature(webhookId!, timestamp!, signature!, body);
    }

    /// <summary>
    /// As <see cref="Verify"/>, reading the body from a stream (an HTTP request's, say): the headers are checked before
    /// a byte is read, and at most <see cref="MaxBodyBytes"/> are read, so that an unauthenticated sender cannot make
    /// the receiver buffer a large body.
    /// </summary>
    /// <param name="webhookId">The <c>webhook-id</c> header.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header (Unix seconds).</param>
    /// <param name="signature">The <c>webhook-signature</c> header.</param>
    /// <param name="body">The raw request body; read to its end or to the limit, left open.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="WebhookVerificationException">A header is missing, the timestamp is stale, the body is larger than <see cref="MaxBodyBytes"/>, or the signature does not match.</exception>
    public async ValueTask<Prediction> VerifyAsync(string? webhookId, string? timestamp, string? signature, Stream body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        CheckHeaders(webhookId, timestamp, signature);
        byte[] bytes;
        try
        {
            bytes = await BoundedBody.ReadAsync(body, MaxBodyBytes, null, cancellationToken).ConfigureAwait(false);
        }
        catch (BoundedBody.TooLargeException)
        {
            throw new WebhookVerificationException($"The body is larger than {MaxBodyBytes} bytes; a delivery is one prediction of a few KB.");
        }

        return VerifySignature(webhookId!, timestamp!, signature!, bytes);
    }

    private void CheckHeaders(string? webhookId, string? timestamp, string? signature)
    {
        if (string.IsNullOrEmpty(webhookId) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            throw new WebhookVerificationException("Missing webhook-id, webhook-timestamp or webhook-signature header.");
        }

        // Unix seconds a date can hold (up to the year 9999); anything else is no time at all.
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            throw new WebhookVerificationException("webhook-timestamp is not Unix seconds.");
        }

        var age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age.Duration() > Tolerance)
        {
            throw new WebhookVerificationException($"webhook-timestamp is {age.TotalSeconds:0} s from now; the tolerance is {Tolerance.TotalSeconds:0} s.");
        }
    }

    private Prediction VerifySignature(string webhookId, string timestamp, string signature, ReadOnlySpan<byte> body)
    {
        var expected = Sign(webhookId, timestamp, body);
        var matched = false;
        foreach (var candidate in signature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = candidate.IndexOf(',', StringComparison.Ordinal);
            if (comma <= 0 || candidate[..comma] != "v3")
            {
                continue;
            }

            byte[] given;
            try
            {
                given = Convert.FromHexString(candidate[(comma + 1)..]);
            }
            catch (FormatException)
            {
                continue;
            }

            matched |= CryptographicOperations.FixedTimeEquals(given, expected);
        }

        return matched
            ? WireParser.ParsePrediction(body)
            : throw new WebhookVerificationException("webhook-signature does not match the body.");
    }

    /// <summary>The HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c> (what a genuine v3 signature carries, hex-encoded).</summary>
    internal byte[] Sign(string webhookId, string timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(webhookId);
        ArgumentNullException.ThrowIfNull(timestamp);
        var prefix = Encoding.UTF8.GetBytes($"{webhookId}.{timestamp}.");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(_key, message);
    }
}
