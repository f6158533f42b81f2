using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using NanoBanana.Catalog;
using NanoBanana.Diagnostics;
using NanoBanana.Polling;
using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana;

/// <summary>
/// The one place that walks a job's candidate models. It owns the job's deadline (submits included), the submit
/// classification (accepted, surely not accepted, outcome unknown), the move to a successor id, the fallbacks, the
/// attempt records, and the logs and metrics of each step. A submit that may have been accepted is never repeated.
/// </summary>
internal sealed class AttemptLoop
{
    private static readonly ConcurrentDictionary<string, bool> RetirementWarned = new(StringComparer.OrdinalIgnoreCase);

    private readonly IAttemptHost _host;
    private readonly ImageJob _job;
    private readonly RoutingDecision _decision;
    private readonly List<ImageModel> _candidates;
    private readonly List<GenerationAttempt> _attempts = [];
    private readonly bool _allowFallback;
    private readonly bool _sync;
    private readonly long _deadline;
    private int _roundStart; // the first candidate of the current submit round (after a failed run, the next one)

    public AttemptLoop(IAttemptHost host, ImageJob job, RoutingDecision decision)
    {
        _host = host;
        _job = job;
        _decision = decision;
        _candidates = [decision.Model, .. decision.Fallbacks];
        _allowFallback = job.AllowFallback ?? true;
        _sync = job.UseSyncMode ?? host.Options.UseSyncMode;
        var time = host.Waiter.Time;
        _deadline = time.GetTimestamp() + (long)((job.Deadline ?? host.Options.Deadline).TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>
    /// Runs the job: submit to the first candidate that accepts; with <paramref name="wait"/>, wait for it and move to
    /// the next candidate when a run fails for a service reason (refunded). Returns the operation that completed (or,
    /// without waiting, the one accepted).
    /// </summary>
    public async Task<ImageGenerationOperation> RunAsync(bool wait, IProgress<GenerationProgress>? progress, Activity? activity, CancellationToken cancellationToken)
    {
        for (var i = 0; i < _candidates.Count; i++)
        {
            var (prediction, model, startTimestamp) = await SubmitAsync(i, cancellationToken).ConfigureAwait(false);
            if (prediction is null)
            {
                continue; // surely not accepted; the next candidate takes the job
            }

            // From here on the job is accepted and may be billed: whatever fails, the caller must get its id.
            ImageGenerationOperation? operation = null;
            try
            {
                operation = Accepted(prediction, model, startTimestamp);
                activity?.SetTag(NanoBananaTelemetry.TagPrediction, operation.State.LogId);

                // The id exists from here on: tell the caller at once, so a crash or a cancellation can still resume it.
                _host.Waiter.Report(operation.State, progress);
                if (!wait)
                {
                    return operation;
                }

                await operation.WaitCoreAsync(_host.DefaultSchedule, progress, _deadline, cancellationToken).ConfigureAwait(false);
                return operation;
            }
            catch (PredictionFailedException ex) when (!ex.IsCallerError && _allowFallback && _host.Options.FallbackOnServiceError && i + 1 < _candidates.Count
                && (ex.Status != PredictionStatus.Completed.Value || (_host.Options.FallbackOnEmptyOutput && !ex.OutputsUnread)))
            {
                // A failed run is refunded, so moving to the next model does not pay twice for the job. A run that
                // completed without outputs may be billed: it moves on only when the caller opted in.
                _attempts.Add(new GenerationAttempt(operation!.Model, operation.Id, AttemptOutcome.Failed, ex.Message, _host.Waiter.Elapsed(operation.State)));
                FallingBack(operation.Model, i, ex.Message);
                _roundStart = i + 1;
            }
            catch (PredictionCanceledException)
            {
                Log.WaitCanceled(_host.Logger, operation!.State.LogId, operation.Model.Id);
                throw;
            }
            catch (Exception ex) when (PredictionWaiter.IsForeign(ex, cancellationToken))
            {
                // Outside the wait's own net (which already gives the id): the caller's telemetry listeners, run inside
                // the SDK's counters and spans right after acceptance or completion.
                throw PredictionWaiter.Broken(prediction.Id, model, operation?.State.Status.Value ?? prediction.Status.Value, ex);
            }
        }

        throw new UnreachableException();
    }

    // One candidate's submit under the job's deadline. Null prediction: surely not accepted, and the loop may move on.
    // A submit cut off by the deadline may have reached the service: it is an unknown outcome, never repeated.
    private async Task<(Prediction? Prediction, ImageModel Model, long Start)> SubmitAsync(int index, CancellationToken cancellationToken)
    {
        var time = _host.Waiter.Time;
        var remaining = time.GetElapsedTime(time.GetTimestamp(), _deadline);
        using var deadlineCts = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromTicks(1), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadlineCts.Token);
        var model = _candidates[index] = _host.CurrentModel(_candidates[index]);
        WarnIfRetired(model);
        var start = time.GetTimestamp();
        using var span = GuardedSpan.Start("nanobanana.submit", ActivityKind.Client);
        var activity = span.Activity;
        activity?.SetTag(NanoBananaTelemetry.TagModel, model.Id);
        activity?.SetTag(NanoBananaTelemetry.TagTier, model.Tier.ToString());
        try
        {
            Prediction prediction;
            try
            {
                prediction = await _host.Protocol.SubmitAsync(_job.ToSubmitRequest(model, _sync), linked.Token).ConfigureAwait(false);
            }
            catch (NanoBananaApiException ex) when (model.SuccessorId is not null && _host.Protocol.SendsModelId && ProviderProfile.IsUnknownModelRefusal(ex, model))
            {
                // Refused because the id is unknown: surely not accepted, not billed. Once more under the successor
                // id; tier, routing and price stay as decided. Another refusal is judged below like any other.
                var successor = model.ToSuccessor();
                _attempts.Add(new GenerationAttempt(model, null, AttemptOutcome.NotAccepted, $"the provider does not know model id {model.Id}; moved to its successor {successor.Id} ({ex.Message})", time.GetElapsedTime(start)));
                Log.MovedToSuccessor(_host.Logger, model.Id, successor.Id, ex.Message);
                _host.RememberSuccessor(successor);
                model = _candidates[index] = successor;
                activity?.SetTag(NanoBananaTelemetry.TagModel, model.Id);
                prediction = await _host.Protocol.SubmitAsync(_job.ToSubmitRequest(model, _sync), linked.Token).ConfigureAwait(false);
            }

            activity?.SetTag(NanoBananaTelemetry.TagPrediction, SafeText.Value(prediction.Id));
            activity?.SetTag(NanoBananaTelemetry.TagStatus, SafeText.Value(prediction.Status.Value));
            // A sync-mode submit is held open while the job runs, so the job started when it left; an asynchronous one
            // is answered as the job is created.
            return (prediction, model, _sync ? start : _host.Waiter.AcceptedTimestamp(start));
        }
        catch (NanoBananaApiException ex) when (SubmitStatus.NotAcceptedServiceSide(ex) && _allowFallback && _host.Options.FallbackWhenNotAccepted && _candidates.Count - _roundStart > 1)
        {
            _attempts.Add(new GenerationAttempt(model, null, AttemptOutcome.NotAccepted, ex.Message, time.GetElapsedTime(start)));
            Log.NotAccepted(_host.Logger, model.Id, ex.Message);
            if (index + 1 < _candidates.Count)
            {
                FallingBack(model, index, ex.Message);
                return (null, model, start);
            }

            Failed(model);
            throw NoModelAccepted(ex);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SubmitOutcomeUnknownException && deadlineCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Failed(model);
            var unknown = ex as SubmitOutcomeUnknownException;
            throw new SubmitOutcomeUnknownException(
                $"The job's deadline passed while submitting to {model.DisplayName}. The submit may have reached the service and was NOT repeated, " +
                "because every accepted submit is billed: check the provider's prediction history before submitting again." +
                (_sync ? NanoBananaProtocolClient.SyncModeNote : ""), ex)
            {
                PredictionId = unknown?.PredictionId,
                StatusCode = unknown?.StatusCode,
                ProviderMessage = unknown?.ProviderMessage,
            };
        }
        catch (NanoBananaException)
        {
            Failed(model);
            throw;
        }
    }

    private ImageGenerationOperation Accepted(Prediction prediction, ImageModel model, long startTimestamp)
    {
        var tags = new KeyValuePair<string, object?>(NanoBananaTelemetry.TagModel, model.Id);
        NanoBananaTelemetry.JobsStarted.Add(1, tags);
        NanoBananaTelemetry.EstimatedCost.Record((double)model.PriceOrZero(_job.Size), tags);
        var state = new PollState
        {
            Id = prediction.Id, Model = model, StartTimestamp = startTimestamp, PollUrl = prediction.PollUrl, Attempt = _attempts.Count + 1, ExpectsInline = _job.Base64Output,
            AcceptedInPart = prediction.ReadInPart is not null,
        };
        Log.Submitted(_host.Logger, state.LogId, model.Id, state.Attempt, _sync);
        if (prediction.ReadInPart is { } problem)
        {
            Log.AcceptedInPart(_host.Logger, state.LogId, model.Id, problem);
        }

        var operation = new ImageGenerationOperation(_host, state, _job, _decision, _attempts);
        _host.Waiter.Record(state, prediction);
        if (prediction.Status.IsTerminal)
        {
            _host.Waiter.RecordImmediate(state, prediction);
            operation.TryBuildValue();
        }
        else if (_sync && prediction.IsSyncTimeout)
        {
            Log.SyncTimeout(_host.Logger, state.LogId);
        }

        return operation;
    }

    private void FallingBack(ImageModel from, int index, string reason)
    {
        var next = _candidates[index + 1];
        NanoBananaTelemetry.Fallbacks.Add(1, new KeyValuePair<string, object?>(NanoBananaTelemetry.TagModel, next.Id));
        Log.FallingBack(_host.Logger, from.Id, next.Id, reason);
    }

    private static void Failed(ImageModel model) =>
        NanoBananaTelemetry.JobsFailed.Add(1, new KeyValuePair<string, object?>(NanoBananaTelemetry.TagModel, model.Id));

    // Past its retirement date a model id is still sent (the provider may route it), with one warning per process.
    private void WarnIfRetired(ImageModel model)
    {
        if (model.RetirementDate is { } date && DateOnly.FromDateTime(_host.Waiter.Time.GetUtcNow().UtcDateTime) > date && RetirementWarned.TryAdd(model.Id, true))
        {
            Log.PastRetirement(_host.Logger, model.Id, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                model.SuccessorId is { } next ? $"successor {next}, used automatically if the provider refuses the id" : "no successor announced", _host.Protocol.Setting($"Catalog:Models:{model.Tier}:Id"));
        }
    }

    private NoModelAcceptedException NoModelAccepted(NanoBananaApiException last)
    {
        var lines = string.Join("; ", _attempts.Select(a => $"{a.Model.Id}: {(a.Outcome == AttemptOutcome.NotAccepted ? "not accepted" : a.Outcome.ToString().ToLowerInvariant())} ({a.Error})"));
        return new NoModelAcceptedException($"No model accepted the job ({_attempts.Count} tried, nothing billed): {lines}", last)
        {
            Attempts = [.. _attempts],
        };
    }
}
