using NanoBanana.Catalog;

namespace NanoBanana;

/// <summary>One model tried for a job.</summary>
/// <param name="Model">The model.</param>
/// <param name="PredictionId">The prediction id, if the submit was accepted.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Error">The error, if any.</param>
/// <param name="Duration">Time spent on this attempt.</param>
public sealed record GenerationAttempt(ImageModel Model, string? PredictionId, AttemptOutcome Outcome, string? Error, TimeSpan Duration);
