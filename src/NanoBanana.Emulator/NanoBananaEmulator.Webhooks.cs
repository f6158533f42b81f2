using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace NanoBanana.Emulator;

// WaveSpeedAI's webhooks: a submit with ?webhook=<url> gets the bare prediction object POSTed to that URL when the job
// completes or fails, signed as protocol.md describes (v3, HMAC-SHA256 over "{id}.{timestamp}.{body}").
public sealed partial class NanoBananaEmulator
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lazy<HttpClient> _webhookClient = new(() => new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) });
    private int _webhooksDelivered;
    private int _webhookAttemptsFailed;

    /// <summary>Webhook deliveries the receiver answered with a 2xx.</summary>
    public int WebhooksDelivered => Volatile.Read(ref _webhooksDelivered);

    /// <summary>Webhook delivery attempts that failed (no answer, or not a 2xx); each may be followed by a retry.</summary>
    public int WebhookAttemptsFailed => Volatile.Read(ref _webhookAttemptsFailed);

    // The submit's ?webhook= parameter: null when absent; a problem when it is not an absolute http(s) URL or comes
    // with base64 outputs (which the provider refuses with 400).
    private static (Uri? Url, string? Problem) WebhookOf(HttpContext ctx, bool base64)
    {
        var given = ctx.Request.Query["webhook"].ToString();
        if (given.Length == 0)
        {
            return (null, null);
        }

        if (!Uri.TryCreate(given, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            return (null, "webhook must be an absolute https URL");
        }

        return base64 ? (null, "enable_base64_output cannot be combined with a webhook") : (url, null);
    }

    // Delivers the job's final prediction once it finishes; a job that never finishes sends nothing.
    private void ScheduleWebhook(JobRecord job, Uri? url)
    {
        if (url is not null && job.Fate != JobFate.Never)
        {
            _ = Task.Run(() => DeliverWebhookAsync(job, url, _stopping.Token), CancellationToken.None);
        }
    }

    private async Task DeliverWebhookAsync(JobRecord job, Uri url, CancellationToken cancellationToken)
    {
        try
        {
            await DelayUntilAsync(job.CompleteTimestamp, cancellationToken).ConfigureAwait(false);
            byte[] body;
            using (var buffer = new MemoryStream())
            {
                using (var w = new Utf8JsonWriter(buffer))
                {
                    WritePrediction(w, job, done: true, job.FateText, syncTimeout: false);
                }

                body = buffer.ToArray();
            }

            var key = Encoding.UTF8.GetBytes(WebhookSecret["whsec_".Length..]);

            // The delivery's own id, the same on every retry, as Standard Webhooks' message ids are: not the prediction id,
            // which may hold what no header can carry (a line break, non-ASCII) and would then never be delivered.
            var deliveryId = "msg_" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(job.Id)), 0, 12).ToLowerInvariant();
            var delay = TimeSpan.FromSeconds(_options.WebhookRetryDelay.TotalSeconds * _options.TimeScale);
            for (var attempt = 1; attempt <= _options.WebhookAttempts; attempt++)
            {
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                var signed = Encoding.UTF8.GetBytes(deliveryId + "." + timestamp + ".").Concat(body).ToArray();
                using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                message.Content.Headers.ContentType = new("application/json");
                message.Headers.TryAddWithoutValidation("webhook-id", deliveryId);
                message.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
                message.Headers.TryAddWithoutValidation("webhook-signature", "v3," + Convert.ToHexString(HMACSHA256.HashData(key, signed)).ToLowerInvariant());
                try
                {
                    using var response = await _webhookClient.Value.SendAsync(message, cancellationToken).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref _webhooksDelivered);
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }

                Interlocked.Increment(ref _webhookAttemptsFailed);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay += delay;
            }
        }
        catch (OperationCanceledException)
        {
            // The emulator is stopping.
        }
    }
}
