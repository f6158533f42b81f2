using System.Text;
using NanoBanana.Catalog;
using NanoBanana.Emulator;
using NanoBanana.Protocol;

namespace NanoBanana.Tests;

public class WebhookTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"abc123","status":"completed","outputs":["https://cdn.example/abc123.png"],"has_nsfw_contents":[false]}""");

    private static (WebhookVerifier Verifier, ManualTimeProvider Time, string Timestamp) Setup()
    {
        var time = new ManualTimeProvider();
        return (new WebhookVerifier("whsec_topsecret", time), time, time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_genuine_delivery_verifies_and_parses_the_bare_prediction()
    {
        var (verifier, _, ts) = Setup();
        var signature = "v3," + Convert.ToHexString(verifier.Sign("msg_1", ts, Body)).ToLowerInvariant();
        var prediction = verifier.Verify("msg_1", ts, signature, Body);
        Assert.Equal("abc123", prediction.Id);
        Assert.True(prediction.Status.IsCompleted);

        // The key is the secret without its whsec_ prefix: an independent HMAC agrees.
        var expected = System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes("topsecret"), Encoding.UTF8.GetBytes($"msg_1.{ts}.").Concat(Body).ToArray());
        Assert.Equal(expected, verifier.Sign("msg_1", ts, Body));
    }

    [Fact]
    public async Task From_a_stream_the_headers_are_checked_before_reading_and_the_body_is_read_to_a_bound()
    {
        var (verifier, _, ts) = Setup();
        var signature = "v3," + Convert.ToHexString(verifier.Sign("msg_1", ts, Body)).ToLowerInvariant();
        Assert.Equal("abc123", (await verifier.VerifyAsync("msg_1", ts, signature, new MemoryStream(Body))).Id);

        // A stale or unsigned delivery is refused before a byte of its body is read.
        var unread = new ChunkedStream(10 << 20);
        await Assert.ThrowsAsync<WebhookVerificationException>(async () => await verifier.VerifyAsync("msg_1", "12345", signature, unread));
        await Assert.ThrowsAsync<WebhookVerificationException>(async () => await verifier.VerifyAsync("msg_1", ts, null, unread));
        Assert.Equal(0, unread.Served);

        // A fresh one with a body past the bound is refused after reading one byte more than the bound.
        var small = new WebhookVerifier("whsec_topsecret", new ManualTimeProvider()) { MaxBodyBytes = 100_000 };
        var huge = new ChunkedStream(10 << 20);
        var ex = await Assert.ThrowsAsync<WebhookVerificationException>(async () => await small.VerifyAsync("msg_1", ts, signature, huge));
        Assert.Contains("larger than 100000 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(100_001, huge.Served);

        // At the bound exactly, the body is read whole and judged by its signature.
        var exact = new WebhookVerifier("whsec_topsecret", new ManualTimeProvider()) { MaxBodyBytes = Body.Length };
        Assert.Equal("abc123", (await exact.VerifyAsync("msg_1", ts, signature, new MemoryStream(Body))).Id);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebhookVerifier("whsec_x") { MaxBodyBytes = 0 });
    }

    [Fact]
    public void Tampered_stale_or_unsigned_deliveries_are_rejected()
    {
        var (verifier, time, ts) = Setup();
        var signature = "v3," + Convert.ToHexString(verifier.Sign("msg_1", ts, Body));
        var tampered = Body.ToArray();
        tampered[^3] ^= 1;
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify("msg_1", ts, signature, tampered));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify("msg_2", ts, signature, Body));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify("msg_1", ts, "v1," + signature[3..], Body));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify("msg_1", ts, null, Body));

        // A timestamp beyond any date (anyone can post one) is refused as such, not with an exception of the clock's.
        foreach (var beyond in new[] { "253402300800", "99999999999999", "9223372036854775807" })
        {
            var refused = Assert.Throws<WebhookVerificationException>(() => verifier.Verify("msg_1", beyond, signature, Body));
            Assert.Contains("not Unix seconds", refused.Message);
        }

        time.Advance(TimeSpan.FromSeconds(301));
        var stale = Assert.Throws<WebhookVerificationException>(() => verifier.Verify("msg_1", ts, signature, Body));
        Assert.Contains("tolerance", stale.Message);
    }

    [Fact]
    public async Task Submit_with_a_webhook_adds_it_to_the_url_on_WaveSpeed_and_is_refused_elsewhere()
    {
        await using var emulator = await Emu.StartAsync();
        var options = Emu.Options(emulator, o => o.Provider = ApiProvider.WaveSpeed);
        using var http = NanoBananaClient.CreateHttpClient(options);
        var client = new NanoBananaProtocolClient(http, options);
        var model = ModelCatalog.Default[ImageTier.NanoBanana2];
        await client.SubmitAsync(new SubmitRequest { Model = model, Prompt = "x", WebhookUrl = new Uri("https://hooks.example/nb?token=1") });
        Assert.EndsWith("/text-to-image?webhook=https%3A%2F%2Fhooks.example%2Fnb%3Ftoken%3D1", emulator.Requests.Single(r => r.Kind == "submit").Path);

        // What the SDK says about such a submit names its route, not the webhook URL and the token the caller put in it.
        emulator.EnqueueFault(FaultKind.InternalError, FaultTarget.Submit);
        var unknown = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.SubmitAsync(new SubmitRequest { Model = model, Prompt = "x", WebhookUrl = new Uri("https://hooks.example/nb?token=secret-of-the-app") }));
        Assert.Matches(@"^Submit to google/[a-z0-9.-]+/text-to-image may have reached the service", unknown.Message);
        Assert.DoesNotContain("secret-of-the-app", unknown.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hooks.example", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(NanoBananaEmulator.WebhookSecret, await client.GetWebhookSecretAsync());

        await Assert.ThrowsAsync<ArgumentException>(() => client.SubmitAsync(new SubmitRequest { Model = model, Prompt = "x", WebhookUrl = new Uri("https://hooks.example/"), Base64Output = true }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SubmitAsync(new SubmitRequest { Model = model, Prompt = "x", WebhookUrl = new Uri("http://hooks.example/") }));
        var gptProto = new NanoBananaProtocolClient(http, Emu.Options(emulator));
        await Assert.ThrowsAsync<ArgumentException>(() => gptProto.SubmitAsync(new SubmitRequest { Model = model, Prompt = "x", WebhookUrl = new Uri("https://hooks.example/") }));
        Assert.Equal(2, emulator.Requests.Count(r => r.Kind == "submit")); // the two above; the refused ones sent nothing
    }
}
