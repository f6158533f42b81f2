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

// POST /images runs a job and answers with its image. The job is tied to the request: if the caller goes away, or the
// job's deadline passes, the prediction keeps running on the service and is billed, so the answer (or, when nobody
// is listening, the log) gives the address that collects it: GET /images?id=…&model=….
app.MapPost("/images", async (HttpContext http, string prompt, string? size, string? ratio, bool? typography, INanoBananaClient client, ILogger<Program> log, CancellationToken ct) =>
{
    ImageJob job;
    try
    {
        job = Job(prompt, size, ratio, typography);
    }
    catch (Exception ex) when (ex is ArgumentException or FormatException)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
    }

    try
    {
        return await Image(http, await client.GenerateAsync(job, ct), log, ct);
    }
    catch (Exception ex) when (ex is ArgumentException or NoCapableModelException)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
    }
    catch (Exception ex) when (ex is NanoBananaException or PredictionCanceledException)
    {
        return Failure(http, ex, log);
    }
});

// POST /jobs starts a job and answers 202 Accepted as soon as the service accepted it, with a Location that collects the
// image (GET /images?id=…&model=…): the pattern for jobs that outlast a proxy's or a client's request timeout.
app.MapPost("/jobs", async (HttpContext http, string prompt, string? size, string? ratio, bool? typography, INanoBananaClient client, ILogger<Program> log, CancellationToken ct) =>
{
    ImageGenerationOperation operation;
    try
    {
        operation = await client.StartGenerationAsync(Job(prompt, size, ratio, typography), ct);
    }
    catch (Exception ex) when (ex is ArgumentException or FormatException or NoCapableModelException)
    {
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
    }
    catch (Exception ex) when (ex is NanoBananaException or PredictionCanceledException)
    {
        return Failure(http, ex, log);
    }

    var resume = Resume(operation.Id, operation.Model.Id);
    // Logged too: if the caller is gone before this answer reaches it, the log still holds the paid job's address.
    log.LogInformation("Accepted; collect it with GET {Resume}", resume);
    return Results.Accepted(resume, new Dictionary<string, object?> { ["predictionId"] = operation.Id, ["model"] = operation.Model.Id, ["resume"] = resume });
});

// GET /images?id=…&model=… collects a prediction that was accepted earlier: it waits for it (within the deadline) and
// answers with its image. Nothing is submitted, so nothing is paid again.
app.MapGet("/images", async (HttpContext http, string id, string? model, INanoBananaClient client, ILogger<Program> log, CancellationToken ct) =>
{
    try
    {
        return await Image(http, await client.ResumeAsync(id, model, ct), log, ct);
    }
    catch (ArgumentException ex)
    {
        // An id that cannot be polled ("..", "."): nothing was sent.
        return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
    }
    catch (Exception ex) when (ex is NanoBananaException or PredictionCanceledException)
    {
        return Failure(http, ex, log);
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

// Answers with the first image; the headers name the model and the prediction (its id percent-encoded, as a header
// carries only plain ASCII and a service's id may not be).
static async Task<IResult> Image(HttpContext http, ImageResult result, ILogger log, CancellationToken ct)
{
    http.Response.Headers["X-NanoBanana-Model"] = result.Model.Id;
    http.Response.Headers["X-NanoBanana-Prediction"] = Uri.EscapeDataString(result.PredictionId);
    http.Response.ContentType = result.Images[0].MediaType ?? "image/png";
    try
    {
        await result.Images[0].CopyToAsync(http.Response.Body, ct);
    }
    catch (Exception ex) when (ex is NanoBananaException or OperationCanceledException or IOException)
    {
        // The headers are gone already: all that is left is to say where the completed image can be fetched again.
        log.LogWarning("The image of a completed prediction could not be sent ({Reason}). Collect it with GET {Resume}", ex.GetType().Name, Resume(result.PredictionId, result.Model.Id));
    }

    return Results.Empty;
}

// Maps the SDK's failures to answers that keep the prediction id wherever the job may still be collected.
static IResult Failure(HttpContext http, Exception ex, ILogger log)
{
    // Every NanoBananaException carries the prediction and its model when they are known; a cancellation is an
    // OperationCanceledException, so it carries its own.
    var (id, model) = ex switch
    {
        PredictionCanceledException c => (c.PredictionId, c.ModelId),
        NanoBananaException n => (n.PredictionId, n.ModelId),
        _ => (null, null),
    };
    if (http.RequestAborted.IsCancellationRequested)
    {
        // The caller went away: nobody reads an answer, so the log keeps the id of the job that runs on.
        if (id is not null)
        {
            log.LogWarning("The caller went away; the prediction runs on and is billed. Collect it with GET {Resume}", Resume(id, model));
        }
        else if (ex is SubmitOutcomeUnknownException)
        {
            // Gone while the submit was on its way: the service may have accepted the job before telling its id.
            log.LogWarning("The caller went away during the submit; the job may have been accepted without its id reaching us: {Message}", ex.Message);
        }

        return Results.Empty;
    }

    var status = ex switch
    {
        PredictionTimeoutException => StatusCodes.Status504GatewayTimeout,
        PredictionNotFoundException { WasResumed: true } => StatusCodes.Status404NotFound, // an id the service does not know
        ContentPolicyException or PredictionFailedException { IsCallerError: true } => StatusCodes.Status422UnprocessableEntity,
        _ => StatusCodes.Status502BadGateway,
    };
    // A prediction that ended failed is over (and refunded), and a resumed one the service does not know cannot be
    // collected; any other with an id can still be.
    var extensions = id is null ? null : new Dictionary<string, object?>
    {
        ["predictionId"] = id,
        ["resume"] = ex is PredictionFailedException or PredictionNotFoundException { WasResumed: true } ? null : Resume(id, model),
    };
    return Results.Problem(ex.Message, statusCode: status, extensions: extensions);
}

static string Resume(string id, string? model) =>
    "/images?id=" + Uri.EscapeDataString(id) + (model is null ? "" : "&model=" + Uri.EscapeDataString(model));

static ImageJob Job(string prompt, string? size, string? ratio, bool? typography) => new(prompt)
{
    Size = size is null ? ImageSize.OneK : ImageSize.Parse(size),
    AspectRatio = ratio is null ? AspectRatio.Square : AspectRatio.Parse(ratio),
    TypographyCritical = typography ?? false,
};
