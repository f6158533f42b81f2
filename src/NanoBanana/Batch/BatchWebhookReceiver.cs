using NanoBanana.Protocol;

namespace NanoBanana.Batch;

/// <summary>
/// Receives the webhook deliveries of a batch run with <see cref="BatchOptions.WebhookUrl"/> and records each
/// prediction in the batch's journal, so that a job whose submit outcome was unknown (its worker died between the
/// service's acceptance and the journal's write, or the submit's answer was lost) is resumed by id instead of being
/// held back or paid for twice. Host it wherever the provider can reach: an ASP.NET Core endpoint, a function. It
/// needs no client and sends nothing.
/// </summary>
public sealed class BatchWebhookReceiver
{
    /// <summary>The query parameter that carries the job's key in the webhook URL of each submit.</summary>
    public const string JobKeyParameter = "nb_job";

    private readonly IPredictionJournal _journal;
    private readonly WebhookVerifier _verifier;

    /// <summary>Creates a receiver for one batch's journal.</summary>
    /// <param name="journal">The journal the batch runs with (the same storage and batch).</param>
    /// <param name="verifier">Checks each delivery's signature (secret from <c>GET webhook/secret</c>).</param>
    public BatchWebhookReceiver(IPredictionJournal journal, WebhookVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(verifier);
        _journal = journal;
        _verifier = verifier;
    }

    /// <summary>The webhook URL for one job: <paramref name="webhookUrl"/> with <see cref="JobKeyParameter"/> added.</summary>
    public static Uri ForJob(Uri webhookUrl, string key)
    {
        ArgumentNullException.ThrowIfNull(webhookUrl);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var builder = new UriBuilder(webhookUrl);
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length == 0 ? "" : query + "&") + JobKeyParameter + "=" + Uri.EscapeDataString(key);
        return builder.Uri;
    }

    /// <summary>The job key a delivery's URL carries, or null when it has none.</summary>
    public static string? JobKeyOf(Uri deliveryUrl)
    {
        ArgumentNullException.ThrowIfNull(deliveryUrl);
        foreach (var pair in deliveryUrl.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && pair[..equals] == JobKeyParameter)
            {
                var value = Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
                return value.Length == 0 ? null : value;
            }
        }

        return null;
    }

    /// <summary>
    /// Verifies a delivery and records its prediction for the job its URL names. Answer the provider with a 2xx for
    /// every outcome but a <see cref="WebhookVerificationException"/> (401), so that it does not deliver again in vain.
    /// </summary>
    /// <param name="deliveryUrl">The URL the delivery was POSTed to (with its query).</param>
    /// <param name="webhookId">The <c>webhook-id</c> header.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header.</param>
    /// <param name="signature">The <c>webhook-signature</c> header.</param>
    /// <param name="body">The raw body, exactly as received.</param>
    /// <param name="cancellationToken">Cancels the journal write.</param>
    /// <exception cref="WebhookVerificationException">The delivery is not authentic or is stale.</exception>
    public async ValueTask<BatchWebhookOutcome> ReceiveAsync(Uri deliveryUrl, string? webhookId, string? timestamp, string? signature, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deliveryUrl);
        return await RecordAsync(deliveryUrl, _verifier.Verify(webhookId, timestamp, signature, body.Span), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// As the overload with a body in memory, reading it from a stream (an HTTP request's body) with the verifier's
    /// bounds: the headers are checked before a byte is read, and no more than <see cref="WebhookVerifier.MaxBodyBytes"/>
    /// is read. The way to host a receiver: a sender without the secret cannot make it buffer a large body.
    /// </summary>
    /// <param name="deliveryUrl">The URL the delivery was POSTed to (with its query).</param>
    /// <param name="webhookId">The <c>webhook-id</c> header.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header.</param>
    /// <param name="signature">The <c>webhook-signature</c> header.</param>
    /// <param name="body">The request body, left open.</param>
    /// <param name="cancellationToken">Cancels the read and the journal write.</param>
    /// <exception cref="WebhookVerificationException">The delivery is not authentic, is stale, or its body is too large.</exception>
    public async ValueTask<BatchWebhookOutcome> ReceiveAsync(Uri deliveryUrl, string? webhookId, string? timestamp, string? signature, Stream body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deliveryUrl);
        var prediction = await _verifier.VerifyAsync(webhookId, timestamp, signature, body, cancellationToken).ConfigureAwait(false);
        return await RecordAsync(deliveryUrl, prediction, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<BatchWebhookOutcome> RecordAsync(Uri deliveryUrl, Prediction prediction, CancellationToken cancellationToken)
    {
        if (JobKeyOf(deliveryUrl) is not { } key)
        {
            return BatchWebhookOutcome.NoJobKey;
        }

        return await _journal.RecordDeliveredAsync(key, prediction.Id, cancellationToken).ConfigureAwait(false) switch
        {
            true => BatchWebhookOutcome.Recovered,
            false => BatchWebhookOutcome.AlreadyKnown,
            null => BatchWebhookOutcome.UnknownJob,
        };
    }
}
