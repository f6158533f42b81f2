using NanoBanana;
using NanoBanana.DependencyInjection;
using NanoBanana.Emulator;
using Microsoft.Extensions.Options;
using NanoBanana.Routing;

// A minimal API: POST /images with a prompt and requirements returns the image; GET /route explains the routing.
// The API key comes from NanoBanana:ApiKey (user secrets, environment NanoBanana__ApiKey) or NANOBANANA_API_KEY.
// Without one, the app starts the built-in emulator so it runs anywhere.
var builder = WebApplication.CreateSlimBuilder(args);
var section = builder.Configuration.GetSection(NanoBananaOptions.SectionName);
var nanoBanana = builder.Services.AddNanoBanana(section);
if (string.IsNullOrWhiteSpace(section["ApiKey"]) && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(NanoBananaOptions.ApiKeyEnvironmentVariable)))
{
    // No key: an in-process emulator at a fifth of real time; the client's schedule is scaled to match.
    nanoBanana.UseEmulator(o => o.TimeScale = 0.2);
}

var app = builder.Build();

app.MapGet("/route", (string prompt, string? size, string? ratio, bool? typography, INanoBananaClient client) =>
{
    try
    {
        return Results.Text(client.Route(Job(prompt, size, ratio, typography)).Explain());
    }
    catch (Exception ex) when (ex is ArgumentException or FormatException or NoCapableModelException)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
    }
});

app.MapPost("/images", async (HttpContext http, string prompt, string? size, string? ratio, bool? typography, INanoBananaClient client, CancellationToken ct) =>
{
    try
    {
        var result = await client.GenerateAsync(Job(prompt, size, ratio, typography), ct);
        http.Response.Headers["X-NanoBanana-Model"] = result.Model.Id;
        http.Response.Headers["X-NanoBanana-Prediction"] = result.PredictionId;
        http.Response.ContentType = "image/png";
        await result.Images[0].CopyToAsync(http.Response.Body, ct);
        return Results.Empty;
    }
    catch (Exception ex) when (ex is ArgumentException or FormatException or NoCapableModelException)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
    }
    catch (PredictionTimeoutException ex)
    {
        return Results.Problem($"{ex.Message}", statusCode: StatusCodes.Status504GatewayTimeout);
    }
});

// Check the NanoBanana settings before serving, so a mistake (a misspelled key, a missing key, a bad URL) is one
// clear line and exit code 1 rather than the host's stack trace.
try
{
    _ = app.Services.GetRequiredService<IOptionsMonitor<NanoBananaOptions>>().Get(nanoBanana.Name);
}
catch (OptionsValidationException ex)
{
    Console.Error.WriteLine($"Configuration error: {string.Join(" ", ex.Failures)}");
    return 1;
}

await app.RunAsync();
return 0;

static ImageJob Job(string prompt, string? size, string? ratio, bool? typography) => new(prompt)
{
    Size = size is null ? ImageSize.OneK : ImageSize.Parse(size),
    AspectRatio = ratio is null ? AspectRatio.Square : AspectRatio.Parse(ratio),
    TypographyCritical = typography ?? false,
};
