using System.Text;
using NanoBanana.Batch;
using NanoBanana.Emulator;
using NanoBanana.Protocol;
using NanoBanana.Soak;

namespace NanoBanana.Tests;

/// <summary>
/// Webhooks close the one gap a journal alone cannot: a submit the service accepted whose id never reached the
/// journal (the worker died, or the answer was lost). Real HTTP both ways: the emulator delivers signed webhooks to a
/// Kestrel endpoint on loopback that records them in the journal.
/// </summary>
public class BatchWebhookTests
{
    private static BatchJob Job(string key) => new(key, new ImageJob($"prompt {key}") { PinnedTier = ImageTier.NanoBanana });

    private static NanoBananaClient WaveSpeedClient(NanoBananaEmulator emulator) => Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);

    private static async Task<Dictionary<string, BatchItemResult>> RunAsync(INanoBananaClient client, IEnumerable<BatchJob> jobs, BatchOptions options)
    {
        var results = new Dictionary<string, BatchItemResult>();
        await foreach (var r in client.RunBatchAsync(jobs, options))
        {
            results[r.Key] = r;
        }

        return results;
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    [Fact]
    public async Task The_emulator_signs_each_delivery_and_a_wrong_secret_is_refused()
    {
        await using var emulator = await Emu.StartAsync(o => { o.WebhookAttempts = 2; o.WebhookRetryDelay = TimeSpan.FromMilliseconds(10); });
        using var client = WaveSpeedClient(emulator);
        var secret = await client.Protocol.GetWebhookSecretAsync();
        await using var genuine = await WebhookSink.StartAsync(new InMemoryPredictionJournal(), secret);
        await using var impostor = await WebhookSink.StartAsync(new InMemoryPredictionJournal(), "whsec_not-the-secret");

        var result = await client.GenerateAsync(new ImageJob("cat") { WebhookUrl = genuine.Url });
        await client.GenerateAsync(new ImageJob("dog") { WebhookUrl = impostor.Url });
        // The sink counts a refusal when it answers; the emulator counts the failed attempt once that answer is back.
        await UntilAsync(() => genuine.Outcomes.Count == 1 && impostor.Rejected == 2 && emulator.WebhookAttemptsFailed == 2 && emulator.WebhooksDelivered == 1);

        // Verified with the secret from GET webhook/secret; no job key in the URL, so nothing to record.
        Assert.Equal(BatchWebhookOutcome.NoJobKey, Assert.Single(genuine.Outcomes));
        Assert.Equal(1, emulator.WebhooksDelivered);
        Assert.Equal(2, emulator.WebhookAttemptsFailed); // the impostor's 401, tried twice
        Assert.Empty(impostor.Outcomes);
        Assert.Contains(emulator.Requests, r => r.Kind == "submit" && r.Path.Contains("webhook=", StringComparison.Ordinal) && r.PredictionId == result.PredictionId);
    }

    [Theory]
    [MemberData(nameof(BatchTests.Worlds), MemberType = typeof(BatchTests))]
    public async Task A_lost_submit_answer_is_recovered_from_the_webhook_without_a_second_submit(string world)
    {
        // The delivered body follows the emulator's spellings (array urls, ISO timestamps, executionTime) as polls do.
        await using var emulator = await Emu.StartAsync(o => BatchTests.World(o, world), timeScale: 0.02);
        using var client = WaveSpeedClient(emulator);
        var journal = new InMemoryPredictionJournal();
        await using var sink = await WebhookSink.StartAsync(journal, NanoBananaEmulator.WebhookSecret);

        // The second submit is accepted, then its connection drops: the client cannot know the id.
        await client.GenerateAsync(new ImageJob("warm-up"));
        emulator.EnqueueFault(FaultKind.DropConnection, FaultTarget.Submit);
        var results = await RunAsync(client, new[] { "k1", "k2", "k3" }.Select(Job), new BatchOptions { Journal = journal, WebhookUrl = sink.Url, MaxConcurrency = 1, Lease = TimeSpan.FromSeconds(1), UnknownOutcomeWait = TimeSpan.FromSeconds(30) });

        Assert.All(results.Values, r => Assert.Equal(BatchOutcome.Completed, r.Outcome));
        Assert.Equal(4, emulator.AcceptedSubmits); // warm-up + 3: nothing sent twice
        Assert.Equal(1, emulator.Requests.Count(r => r.Kind == "submit" && r.Fault == FaultKind.DropConnection));
        Assert.Contains(BatchWebhookOutcome.Recovered, sink.Outcomes);
        var recovered = (await journal.ReadAsync()).Single(e => e.PredictionId == emulator.Requests.Single(r => r.Kind == "submit" && r.Fault == FaultKind.DropConnection).PredictionId);
        Assert.Equal((JournalState.Completed, 0.039m), (recovered.State, recovered.ChargeUsd));
    }

    [Fact]
    public async Task Without_a_delivery_the_job_is_held_back_after_the_wait_and_never_resubmitted()
    {
        await using var emulator = await Emu.StartAsync(o => o.WebhookAttempts = 1, timeScale: 0.02);
        using var client = WaveSpeedClient(emulator);
        var journal = new InMemoryPredictionJournal();
        await using var sink = await WebhookSink.StartAsync(journal, NanoBananaEmulator.WebhookSecret);
        sink.Down = true;

        emulator.EnqueueFault(FaultKind.DropConnection, FaultTarget.Submit);
        var results = await RunAsync(client, new[] { "k1", "k2" }.Select(Job), new BatchOptions { Journal = journal, WebhookUrl = sink.Url, MaxConcurrency = 1, Lease = TimeSpan.FromSeconds(1), UnknownOutcomeWait = TimeSpan.FromSeconds(1) });

        Assert.Equal(BatchOutcome.OutcomeUnknown, results["k1"].Outcome);
        Assert.Contains("No webhook named it within 1 s", results["k1"].Error, StringComparison.Ordinal);
        Assert.Equal(BatchOutcome.Completed, results["k2"].Outcome);
        Assert.Equal(2, emulator.AcceptedSubmits);
        Assert.True(sink.Rejected >= 1);
        Assert.Equal(JournalState.Submitting, (await journal.ReadAsync()).Single(e => e.Key == "k1").State);
    }

    [Fact]
    public async Task With_ResubmitUnknown_a_job_no_webhook_named_is_sent_once_after_the_wait()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.02);
        using var client = WaveSpeedClient(emulator);
        var journal = new InMemoryPredictionJournal();
        await using var sink = await WebhookSink.StartAsync(journal, NanoBananaEmulator.WebhookSecret);

        // A worker wrote its intent for k1 and died before the request left: the service never saw it.
        await journal.ClaimAsync("k1", "dead", TimeSpan.FromMilliseconds(1));
        await journal.BeginSubmitAsync("k1", "dead", 0.039m, null, null, new DateOnly(2026, 11, 22));
        await Task.Delay(20);

        var options = new BatchOptions { Journal = journal, WebhookUrl = sink.Url, ResubmitUnknown = true, Lease = TimeSpan.FromSeconds(1), UnknownOutcomeWait = TimeSpan.FromSeconds(1) };
        var started = DateTimeOffset.UtcNow;
        var results = await RunAsync(client, new[] { "k1", "k2" }.Select(Job), options);

        Assert.All(results.Values, r => Assert.Equal(BatchOutcome.Completed, r.Outcome));
        Assert.Equal(2, emulator.AcceptedSubmits);
        var k1Submit = emulator.Requests.Single(r => r.Kind == "submit" && r.Accepted && r.PredictionId == results["k1"].PredictionId);
        Assert.True(k1Submit.Time - started >= TimeSpan.FromSeconds(1), "k1 was sent again before the wait for its webhook was over");
    }

    [Fact]
    public async Task Webhook_settings_are_checked_before_anything_is_sent()
    {
        await using var emulator = await Emu.StartAsync();
        using var waveSpeed = WaveSpeedClient(emulator);
        using var gptProto = Emu.Client(emulator);

        var ex = Assert.Throws<ArgumentException>(() => new BatchOptions { WebhookUrl = new Uri("http://hooks.example.com/nb") }.Validate());
        Assert.Contains("WebhookUrl must be an absolute https URL", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(async () => await RunAsync(gptProto, [Job("a")], new BatchOptions { WebhookUrl = new Uri("https://hooks.example.com/nb") }));
        var job = await Assert.ThrowsAsync<ArgumentException>(() => waveSpeed.GenerateAsync(new ImageJob("x") { WebhookUrl = new Uri("http://hooks.example.com/nb") }));
        Assert.Contains("http only on a loopback host", job.Message, StringComparison.Ordinal);
        Assert.Empty(emulator.Requests);
    }

    [Theory]
    [InlineData("https://hooks.example.com/nb", "sku/1")]
    [InlineData("https://hooks.example.com/nb?batch=cat-2026&x=1", "a b&c=d/é+")]
    public void A_job_key_survives_the_round_trip_through_the_webhook_url(string url, string key)
    {
        var forJob = BatchWebhookReceiver.ForJob(new Uri(url), key);
        Assert.Equal(key, BatchWebhookReceiver.JobKeyOf(forJob));
        Assert.StartsWith(url, forJob.AbsoluteUri, StringComparison.Ordinal);
        Assert.Null(BatchWebhookReceiver.JobKeyOf(new Uri(url)));
    }

    [Fact]
    public async Task A_hosted_receiver_refuses_a_large_unsigned_body_after_reading_no_more_than_its_bound()
    {
        var journal = new InMemoryPredictionJournal();
        await using var sink = await WebhookSink.StartAsync(journal, NanoBananaEmulator.WebhookSecret);
        using var http = new HttpClient();
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bound = new WebhookVerifier(NanoBananaEmulator.WebhookSecret).MaxBodyBytes;

        // 16 MiB from a sender without the secret, with headers that look fresh.
        using var forged = new HttpRequestMessage(HttpMethod.Post, sink.Url) { Content = new StreamContent(new ChunkedStream(16 << 20)) };
        forged.Headers.Add("webhook-id", "msg");
        forged.Headers.Add("webhook-timestamp", ts);
        forged.Headers.Add("webhook-signature", "v3," + new string('0', 64));
        try
        {
            using var answer = await http.SendAsync(forged);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, answer.StatusCode);
        }
        catch (HttpRequestException)
        {
            // The server may answer and close before the client has sent the rest: the refusal is what counts.
        }

        Assert.Equal(1, sink.Rejected);
        Assert.InRange(sink.BodyBytesRead, bound, bound + 1);

        // Without the headers, nothing of the body is read at all.
        using var bare = new HttpRequestMessage(HttpMethod.Post, sink.Url) { Content = new ByteArrayContent(new byte[100_000]) };
        using (var answer = await http.SendAsync(bare))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, answer.StatusCode);
        }

        Assert.InRange(sink.BodyBytesRead, bound, bound + 1);
        Assert.Empty(await journal.ReadAsync());
    }

    [Fact]
    public async Task The_receiver_records_only_a_job_whose_outcome_is_unknown()
    {
        var journal = new InMemoryPredictionJournal();
        await journal.ClaimAsync("unknown", "w", TimeSpan.FromMinutes(1));
        await journal.BeginSubmitAsync("unknown", "w", 0.039m, null, null, new DateOnly(2026, 11, 22));
        await journal.ClaimAsync("known", "w", TimeSpan.FromMinutes(1));
        await journal.BeginSubmitAsync("known", "w", 0.039m, null, null, new DateOnly(2026, 11, 22));
        await journal.AcceptedAsync("known", "p-known", "gemini-2.5-flash-image", 0.039m);
        var verifier = new WebhookVerifier(NanoBananaEmulator.WebhookSecret);
        var receiver = new BatchWebhookReceiver(journal, verifier);

        async Task<BatchWebhookOutcome> Deliver(string key, string id, bool forge = false)
        {
            var body = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","status":"completed","outputs":["https://cdn.example/{{id}}.png"]}""");
            var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            var signature = "v3," + Convert.ToHexString(verifier.Sign("msg", ts, forge ? [.. body, 32] : body));
            return await receiver.ReceiveAsync(BatchWebhookReceiver.ForJob(new Uri("https://hooks.example.com/nb"), key), "msg", ts, signature, body);
        }

        await Assert.ThrowsAsync<WebhookVerificationException>(async () => await Deliver("unknown", "p-forged", forge: true));
        Assert.Equal(BatchWebhookOutcome.Recovered, await Deliver("unknown", "p-1"));
        Assert.Equal(BatchWebhookOutcome.AlreadyKnown, await Deliver("unknown", "p-1")); // a repeated delivery
        Assert.Equal(BatchWebhookOutcome.AlreadyKnown, await Deliver("known", "p-other"));
        Assert.Equal(BatchWebhookOutcome.UnknownJob, await Deliver("never-claimed", "p-2"));
        var entries = (await journal.ReadAsync()).ToDictionary(e => e.Key);
        Assert.Equal((JournalState.Accepted, "p-1", 0.039m), (entries["unknown"].State, entries["unknown"].PredictionId, entries["unknown"].ChargeUsd));
        Assert.Equal("p-known", entries["known"].PredictionId);
    }
}
