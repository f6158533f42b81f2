using NanoBanana.Catalog;
using NanoBanana.Diagnostics;
using NanoBanana.Polling;
using NanoBanana.Protocol;
using NanoBanana.Routing;

namespace NanoBanana;

/// <summary>
/// A prediction in flight, modelled on Azure's <c>Operation&lt;T&gt;</c>: check its <see cref="Status"/>, poll it once with
/// <see cref="UpdateStatusAsync"/>, or wait with <see cref="WaitForCompletionAsync(CancellationToken)"/>. Re-attach to
/// an existing prediction after a restart with <see cref="NanoBananaClient.GetOperation"/>.
/// </summary>
public class ImageGenerationOperation
{
    private readonly IAttemptHost _client;
    private readonly PollState _state;

    internal PollState State => _state;

    private readonly ImageJob? _job;
    private readonly List<GenerationAttempt> _priorAttempts;
    private ImageResult? _value;
    private PredictionFailedException? _failure;
    private NanoBananaException? _outputFailure;

    // Concurrent waits on one operation share one poll loop (see WaitCoreAsync); the result is built once.
    private readonly object _gate = new();
    private SharedLoop? _loop;
    private int _waiters;
    private readonly List<IProgress<GenerationProgress>> _progress = [];

    /// <summary>Whether no wait is under way on this operation.</summary>
    internal bool IsIdle
    {
        get
        {
            lock (_gate)
            {
                return _waiters == 0;
            }
        }
    }

    internal ImageGenerationOperation(IAttemptHost client, PollState state, ImageJob? job, RoutingDecision? decision, IEnumerable<GenerationAttempt>? priorAttempts)
    {
        _client = client;
        _state = state;
        _job = job;
        Decision = decision;
        _priorAttempts = priorAttempts?.ToList() ?? [];
    }

    /// <summary>For mocking.</summary>
    protected ImageGenerationOperation()
    {
        _client = null!;
        _state = null!;
        _priorAttempts = [];
    }

    /// <summary>The prediction id. Keep it: it is all you need to resume.</summary>
    public virtual string Id => _state.Id;

    /// <summary>The model running the prediction.</summary>
    public virtual ImageModel Model => _state.Model;

    /// <summary>The routing decision, when the operation was started by this client.</summary>
    public virtual RoutingDecision? Decision { get; }

    /// <summary>The latest known status.</summary>
    public virtual PredictionStatus Status => _state.Status;

    /// <summary>The latest prediction as the service reported it.</summary>
    public virtual Prediction? LatestPrediction => _state.Latest;

    /// <summary>
    /// Whether the prediction reached a terminal status. A prediction reported <c>completed</c> without outputs has not
    /// while rechecks remain (<see cref="Polling.PollingOptions.EmptyCompletionRechecks"/>): waits and
    /// <see cref="UpdateStatusAsync"/> ask again whether the outputs follow.
    /// </summary>
    public virtual bool HasCompleted => _state.Ended;

    /// <summary>Whether <see cref="Value"/> is available.</summary>
    public virtual bool HasValue => _value is not null;

    /// <summary>Polls sent so far.</summary>
    public virtual int PollCount => _state.PollCount;

    /// <summary>The result.</summary>
    /// <exception cref="InvalidOperationException">The prediction has not completed.</exception>
    /// <exception cref="PredictionFailedException">The prediction failed.</exception>
    /// <exception cref="OutputUnavailableException">The prediction completed but an output is undecodable or refused.</exception>
    public virtual ImageResult Value
    {
        get
        {
            if (_value is not null)
            {
                return _value;
            }

            if (_outputFailure is not null)
            {
                throw _outputFailure;
            }

            if (_state.Ended && _state.Latest is { } p)
            {
                throw Failure(p);
            }

            throw new InvalidOperationException(_state.AwaitingOutputs
                ? $"Prediction {Diagnostics.SafeText.Value(Id)} was reported completed without outputs, which are asked for again ({_client.Protocol.Setting("Polling:EmptyCompletionRechecks")}). Call WaitForCompletionAsync or UpdateStatusAsync."
                : $"Prediction {Diagnostics.SafeText.Value(Id)} has not completed yet (status {Status}). Call WaitForCompletionAsync or UpdateStatusAsync.");
        }
    }

    /// <summary>
    /// Checks the status once and returns it. Like the wait loop, an unreadable answer or a transient failure is retried
    /// a few times with backoff, all within the job's deadline. A prediction reported completed without outputs is
    /// checked again by the next call while rechecks remain (<see cref="HasCompleted"/> stays false until then).
    /// </summary>
    /// <exception cref="PredictionTimeoutException">The deadline passed before the service answered (the id is in the exception).</exception>
    /// <exception cref="PredictionCanceledException">The caller cancelled (the id is in the exception).</exception>
    /// <exception cref="NanoBananaException">Any other failure (an HTTP handler's, a disposed HttpClient), with the id and the cause inside.</exception>
    public virtual async Task<PredictionStatus> UpdateStatusAsync(CancellationToken cancellationToken = default)
    {
        if (!HasCompleted)
        {
            await _client.Waiter.CheckAsync(_state, DeadlineFromNow(), cancellationToken).ConfigureAwait(false);
            TryBuildValue();
        }

        return Status;
    }

    private long DeadlineFromNow()
    {
        var deadline = _job?.Deadline ?? _client.Options.Deadline;
        return _client.Waiter.Time.GetTimestamp() + (long)(deadline.TotalSeconds * _client.Waiter.Time.TimestampFrequency);
    }

    /// <summary>Waits with the client's default (adaptive) schedule and deadline.</summary>
    public virtual Task<ImageResult> WaitForCompletionAsync(CancellationToken cancellationToken = default) =>
        WaitForCompletionAsync(_client.DefaultSchedule, null, cancellationToken);

    /// <summary>Waits polling at a fixed interval.</summary>
    public virtual Task<ImageResult> WaitForCompletionAsync(TimeSpan pollingInterval, CancellationToken cancellationToken = default) =>
        WaitForCompletionAsync(new FixedPollSchedule(pollingInterval), null, cancellationToken);

    /// <summary>Waits with a schedule of your choice, reporting progress.</summary>
    /// <exception cref="PredictionTimeoutException">The deadline passed (the id is in the exception: resume later).</exception>
    /// <exception cref="PredictionFailedException">The prediction failed.</exception>
    /// <exception cref="PredictionCanceledException">The caller cancelled (the id is in the exception: resume later).</exception>
    /// <exception cref="OutputUnavailableException">The prediction completed but an output is undecodable or refused (the id is in the exception).</exception>
    public virtual async Task<ImageResult> WaitForCompletionAsync(IPollSchedule schedule, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return await WaitCoreAsync(schedule, progress, DeadlineFromNow(), cancellationToken).ConfigureAwait(false);
    }

    // Waits that overlap share one poll loop: it polls as soon as any of their schedules asks (one that joins with a
    // schedule of its own wakes it; it used to poll on the first wait's alone), each caller keeps its own deadline,
    // cancellation and progress (one that joins hears the current status at once, then every change). Five concurrent
    // waits on one operation used to poll side by side over one shared state, about five times the polls of one wait,
    // and every loop taught the completion-time estimate the same job again. The loop runs to the latest deadline of its waiters
    // (one that joins late moves it on; it used to end every wait at the first one's), each wait ends at its own. The
    // loop stops when its last waiter has gone, and that waiter returns only once it has (nothing left scheduled).
    internal async Task<ImageResult> WaitCoreAsync(IPollSchedule schedule, IProgress<GenerationProgress>? progress, long deadlineTimestamp, CancellationToken cancellationToken)
    {
        if (_value is not null)
        {
            return _value;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            throw PredictionWaiter.Canceled(_state, new OperationCanceledException(cancellationToken), cancellationToken);
        }

        Task<Task<Prediction>>? starter = null;
        SharedLoop loop;
        lock (_gate)
        {
            if (progress is not null)
            {
                _progress.Add(progress);
            }

            if (_loop is null)
            {
                var stop = new CancellationTokenSource();
                var everyone = new FanOutProgress(this);
                var deadline = new WaitDeadline(deadlineTimestamp);
                var schedules = new WaitSchedules(schedule, stop.Token);
                starter = new Task<Task<Prediction>>(() => _client.Waiter.WaitAsync(_state, schedules, deadline, everyone, stop.Token));
                _loop = new SharedLoop(starter.Unwrap(), stop, deadline, schedules);
            }
            else
            {
                _loop.Deadline.ExtendTo(deadlineTimestamp);
                _loop.Schedules.Add(schedule);
            }

            _waiters++;
            loop = _loop;
        }

        if (starter is not null)
        {
            starter.RunSynchronously(TaskScheduler.Default); // outside the lock: the loop's first steps call the callers' progress
        }
        else if (progress is not null)
        {
            _client.Waiter.ReportNow(_state, progress);
        }

        Prediction prediction;
        var time = _client.Waiter.Time;
        try
        {
            // This wait's own deadline: the loop may run on to a later one for a wait that joined after this one.
            var own = time.GetElapsedTime(time.GetTimestamp(), deadlineTimestamp);
            prediction = await loop.Wait.WaitAsync(own > TimeSpan.Zero ? own : TimeSpan.Zero, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && ex is not PredictionCanceledException)
        {
            await LeaveEarlyAsync(loop, schedule, progress).ConfigureAwait(false);
            throw PredictionWaiter.Canceled(_state, ex, cancellationToken);
        }
        catch (TimeoutException)
        {
            var last = await LeaveEarlyAsync(loop, schedule, progress).ConfigureAwait(false);
            if (!loop.Wait.IsCompleted || loop.Wait.IsCanceled) // running on for other waits, or stopped by this one's leaving
            {
                throw _client.Waiter.Timeout(_state, deadlineTimestamp, othersWait: !last); // the job counts as failed once, when nobody waits any more
            }

            // The loop ended on its own as this wait's deadline passed (an answer, a failure, its own timeout): that stands.
            prediction = await loop.Wait.ConfigureAwait(false);
            return TryBuildValueOrThrow(prediction);
        }
        catch
        {
            Leave(loop, schedule, progress);
            throw;
        }

        Leave(loop, schedule, progress);
        return TryBuildValueOrThrow(prediction);
    }

    private ImageResult TryBuildValueOrThrow(Prediction prediction)
    {
        ImageResult? value;
        try
        {
            value = TryBuildValue();
        }
        catch (Exception ex) when (PredictionWaiter.IsForeign(ex, CancellationToken.None))
        {
            // The job is done and paid: whatever goes wrong while its result is put together must not cost the id.
            // (The caller's telemetry listeners, which used to throw from here, are guarded now: GuardedCounter.)
            throw PredictionWaiter.Broken(Id, Model, _state.Status.Value, ex);
        }

        return value ?? throw (_outputFailure ?? (Exception)Failure(prediction));
    }

    // A wait that ends before its loop (cancelled, or past its own deadline): when it was the last waiter, the loop is told
    // to stop and this returns once it has (nothing left scheduled; the loop teaches the wait as unfinished).
    private async Task<bool> LeaveEarlyAsync(SharedLoop loop, IPollSchedule schedule, IProgress<GenerationProgress>? progress)
    {
        if (!Leave(loop, schedule, progress))
        {
            return false;
        }

        await ((Task)loop.Wait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return true;
    }

    // Whether this was the last waiter of a loop still running: then the loop is told to stop (the caller awaits its end).
    private bool Leave(SharedLoop loop, IPollSchedule schedule, IProgress<GenerationProgress>? progress)
    {
        lock (_gate)
        {
            if (progress is not null)
            {
                _progress.Remove(progress);
            }

            loop.Schedules.Remove(schedule);

            if (--_waiters > 0)
            {
                return false;
            }

            // The last waiter of the loop: a new loop starts only once no one waits on this one, so it is still the shared one.
            _loop = null;
        }

        if (loop.Wait.IsCompleted)
        {
            loop.Release();
            return false;
        }

        loop.Stop.Cancel();
        _ = loop.Wait.ContinueWith(
            static (t, s) =>
            {
                _ = t.Exception; // nobody waits for this loop's outcome any more: observed here, never left to the finalizer
                ((SharedLoop)s!).Release();
            },
            loop,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return true;
    }

    // The poll loop that overlapping waits share: its task, what stops it, its deadline (the latest of its waiters') and
    // its waiters' schedules (it polls as soon as any of them asks).
    private sealed record SharedLoop(Task<Prediction> Wait, CancellationTokenSource Stop, WaitDeadline Deadline, WaitSchedules Schedules)
    {
        // Once the loop has ended: what stops it and what wakes it are no longer needed.
        public void Release()
        {
            Schedules.Dispose();
            Stop.Dispose();
        }
    }

    // The shared loop's progress: every waiting caller's callback, each called even when one before it throws (the
    // first exception then goes on to the waiter, which logs it).
    private sealed class FanOutProgress(ImageGenerationOperation operation) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value)
        {
            IProgress<GenerationProgress>[] targets;
            lock (operation._gate)
            {
                targets = [.. operation._progress];
            }

            Exception? first = null;
            foreach (var target in targets)
            {
                try
                {
                    target.Report(value);
                }
                catch (Exception ex)
                {
                    first ??= ex;
                }
            }

            if (first is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }
        }
    }

    // Builds the result once the prediction completed with outputs. An output that cannot be decoded or is refused
    // does not throw here: it is kept (with the prediction id) and thrown by Value and the waits.
    internal ImageResult? TryBuildValue()
    {
        lock (_gate)
        {
            return TryBuildValueLocked();
        }
    }

    private ImageResult? TryBuildValueLocked()
    {
        if (_value is not null || _outputFailure is not null || _state.Latest is not { Status.IsCompleted: true, Outputs.Count: > 0 } p)
        {
            return _value;
        }

        var duration = _client.Waiter.Elapsed(_state);
        PixelSize? expected = _job is not null && Model.Supports(_job.Size) && Model.Supports(_job.AspectRatio) ? Model.GetPixelSize(_job.Size, _job.AspectRatio) : null;
        GeneratedImage[] images;
        try
        {
            images = p.Outputs.Select((o, i) => new GeneratedImage(_client.Protocol, o, i < p.HasNsfwContents.Count && p.HasNsfwContents[i], expected, Id, i, Model.Id)).ToArray();
        }
        catch (Exception ex) when (ex is OutputUnavailableException or ResponseLimitExceededException)
        {
            _outputFailure = (NanoBananaException)ex;
            _outputFailure.KnowModel(Id, Model.Id);
            NanoBananaTelemetry.JobsFailed.Add(1, new KeyValuePair<string, object?>(NanoBananaTelemetry.TagModel, Model.Id));
            Log.OutputUnavailable(_client.Logger, _state.LogId, Model.Id, ex.Message);
            return null;
        }

        if (p.UnreadOutputs > 0)
        {
            Log.OutputsUnread(_client.Logger, _state.LogId, Model.Id, p.UnreadOutputs, p.UnreadOutputShape, images.Length);
        }

        var attempts = _priorAttempts.Append(new GenerationAttempt(Model, Id, AttemptOutcome.Completed, null, duration)).ToArray();
        var cost = Model.PriceOrZero(_job?.Size ?? ImageSize.OneK);
        _value = new ImageResult(images, Model, Id, Decision, attempts, duration, p.ExecutionTime, _state.PollCount, cost);
        var tags = new KeyValuePair<string, object?>(NanoBananaTelemetry.TagModel, Model.Id);
        NanoBananaTelemetry.JobsCompleted.Add(1, tags);
        NanoBananaTelemetry.Latency.Record(duration.TotalSeconds, tags);
        Log.Completed(_client.Logger, _state.LogId, Model.Id, duration.TotalMilliseconds, _state.PollCount);
        return _value;
    }

    // Built once: reading Value twice must not count or log the failure twice.
    internal PredictionFailedException Failure(Prediction p)
    {
        lock (_gate)
        {
            return _failure ??= CreateFailure(p);
        }
    }

    private PredictionFailedException CreateFailure(Prediction p)
    {
        NanoBananaTelemetry.JobsFailed.Add(1, new KeyValuePair<string, object?>(NanoBananaTelemetry.TagModel, Model.Id));
        Log.PredictionFailed(_client.Logger, _state.LogId, Model.Id, p.Error, p.ErrorCode);
        var outputsMissing = p.Status.IsCompleted && p.Outputs.Count == 0;
        var who = Id.Length == 0 ? $"The synchronous prediction on {Model.DisplayName} (the service returned no id)" : $"Prediction {Diagnostics.SafeText.Value(Id)} on {Model.DisplayName}";
        return new PredictionFailedException(
            outputsMissing && p.UnreadOutputs > 0
                ? $"{who} completed, but its {(p.UnreadOutputs == 1 ? "output came" : $"{p.UnreadOutputs} outputs came")} in a shape the SDK does not read " +
                  $"({p.UnreadOutputShape}; it reads strings, and objects with {string.Join(", ", WireParser.OutputNames)}). The run is likely billed and its image exists, " +
                  "so the job was not sent to another model; please report the shape."
                : outputsMissing
                ? $"{who} completed without outputs{Rechecked()}. A completed run may be billed, so the job was not sent to another model ({_client.Protocol.Setting("FallbackOnEmptyOutput")} allows it)."
                    + (Id.Length == 0 ? "" : $" If its outputs are only late, resuming it gets them: {PredictionWaiter.ResumeCall(Id, Model.Id)}.")
                : $"{who} ended {p.Status}{(p.ErrorCode is { } c ? $" (code {c})" : "")}: {p.Error ?? "no error message"}."
                    + (p.IsCallerError ? " The provider refused the prompt or its inputs; another model would refuse it too, so none was tried." : ""))
        {
            PredictionId = Id.Length == 0 ? null : Id,
            TaskErrorCode = p.ErrorCode,
            ErrorCode = p.ErrorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ProviderMessage = p.Error,
            IsCallerError = p.IsCallerError,
            Status = p.Status.Value,
            OutputsUnread = outputsMissing && p.UnreadOutputs > 0,
        };
    }

    // How many more polls still listed no outputs after the first empty completion, in the failure's message.
    private string Rechecked() => (_state.EmptyCompletions - 1) switch
    {
        <= 0 => "",
        1 => ", and listed none when polled once more",
        var n => $", and listed none when polled {n} more times",
    };

    /// <inheritdoc />
    public override string ToString() => $"Operation {Diagnostics.SafeText.Value(Id)} on {Model.DisplayName}: {Status}";
}
