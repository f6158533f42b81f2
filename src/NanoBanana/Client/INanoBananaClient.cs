using NanoBanana.Catalog;
using NanoBanana.Polling;
using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana;

/// <summary>The Nano Banana client: route, submit, wait, fetch. Thread-safe; register as a singleton.</summary>
public interface INanoBananaClient
{
    /// <summary>Routes the job, submits it, waits for it (falling back to the next model on a service failure when allowed) and returns the result.</summary>
    /// <exception cref="ArgumentException">The job is invalid (nothing was sent).</exception>
    /// <exception cref="NoCapableModelException">No model can run the job (nothing was sent).</exception>
    /// <exception cref="PredictionTimeoutException">The deadline passed; resume with the id in the exception.</exception>
    /// <exception cref="PredictionFailedException">The prediction failed and no fallback applied.</exception>
    /// <exception cref="SubmitOutcomeUnknownException">A submit may have reached the service; it was not repeated.</exception>
    /// <exception cref="NanoBananaApiException">The service refused the submit.</exception>
    Task<ImageResult> GenerateAsync(ImageJob job, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="GenerateAsync(ImageJob, CancellationToken)"/>, reporting progress.</summary>
    Task<ImageResult> GenerateAsync(ImageJob job, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken = default);

    /// <summary>An image edit: a job with at least one reference image. Limits are enforced before sending.</summary>
    Task<ImageResult> EditAsync(ImageJob job, CancellationToken cancellationToken = default);

    /// <summary>Routes and submits the job, returning as soon as the prediction is accepted.</summary>
    Task<ImageGenerationOperation> StartGenerationAsync(ImageJob job, CancellationToken cancellationToken = default);

    /// <summary>Re-attaches to an existing prediction by id (after a timeout, a cancellation or a restart).</summary>
    /// <param name="predictionId">The prediction id.</param>
    /// <param name="model">
    /// The model id, WaveSpeed slug or tier name it runs on (for the schedule); null assumes Nano Banana 2. An id the
    /// catalog does not know (one accepted before the catalog changed) is waited on all the same, with a warning, its
    /// polls timed over every latency the catalog knows.
    /// </param>
    ImageGenerationOperation GetOperation(string predictionId, string? model = null);

    /// <summary>
    /// Waits on an existing prediction by id and returns its result. Resumes of the same prediction and model on one
    /// client that overlap (two requests of a web app collecting the same job) share one poll loop; each keeps its own
    /// deadline and cancellation.
    /// </summary>
    Task<ImageResult> ResumeAsync(string predictionId, string? model = null, CancellationToken cancellationToken = default);

    /// <summary>Dry run: routes and explains without sending anything.</summary>
    RoutingDecision Route(ImageJob job);

    /// <summary>The model catalog in use (defaults plus configuration overrides).</summary>
    ModelCatalog Catalog { get; }

    /// <summary>The protocol layer, for single calls (submit, one poll, download, upload) outside the facade's loop.</summary>
    NanoBananaProtocolClient Protocol { get; }
}
