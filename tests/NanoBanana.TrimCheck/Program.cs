using System.Text;
using NanoBanana;
using NanoBanana.Protocol;
using NanoBanana.Routing;

// Exercises the library's reflection-sensitive paths in a trimmed app: routing, options validation, catalog
// overrides, and source-generated JSON (a webhook body parsed into a Prediction). Exit code 0 means all worked.
var decision = TierPolicy.Default.Route(new JobRequirements { Size = ImageSize.TwoK, TypographyCritical = true });
using var client = new NanoBananaClient(new NanoBananaOptions { ApiKey = "trim-check" });
var routed = client.Route(new ImageJob("a lighthouse") { AspectRatio = AspectRatio.Parse("1:8") });
var verifier = new WebhookVerifier("whsec_trim");
var body = Encoding.UTF8.GetBytes("""{"id":"p1","status":"completed","outputs":["https://cdn.example/p1.png"],"created_at":"2025-11-07T02:35:15.34950574Z"}""");
var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
// Signed the way WaveSpeedAI documents it: HMAC-SHA256 over "{id}.{timestamp}.{body}" with the secret after its "whsec_" prefix.
var signature = System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes("trim"), (byte[])[.. Encoding.UTF8.GetBytes($"m1.{ts}."), .. body]);
var prediction = verifier.Verify("m1", ts, "v3," + Convert.ToHexString(signature), body);
var ok = decision.Model.Tier == ImageTier.NanoBananaPro && routed.Model.Tier == ImageTier.NanoBanana2 && prediction.Outputs.Count == 1 && prediction.CreatedAt is not null;
Console.WriteLine(ok ? $"trim check passed: {decision.Model.Id}, {routed.Model.Id}, {prediction.Id}" : "trim check FAILED");
return ok ? 0 : 1;
