using NanoBanana.Catalog;
using NanoBanana.Protocol;

namespace NanoBanana.Polling;

/// <summary>Progress of one generation, for progress bars.</summary>
/// <param name="PredictionId">The prediction being waited on.</param>
/// <param name="Model">The model running it.</param>
/// <param name="Status">The latest status.</param>
/// <param name="Elapsed">Time since the service accepted the job (estimated from the submit's answer; in sync mode, since the submit was sent).</param>
/// <param name="PollCount">Polls sent so far.</param>
/// <param name="Attempt">1 for the first model, 2 for the first fallback, …</param>
public sealed record GenerationProgress(string PredictionId, ImageModel Model, PredictionStatus Status, TimeSpan Elapsed, int PollCount, int Attempt);
