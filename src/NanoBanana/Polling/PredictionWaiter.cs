using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using NanoBanana.Catalog;
using NanoBanana.Diagnostics;
using NanoBanana.Protocol;

namespace NanoBanana.Polling;

/// <summary>
/// Our own poll loop (Polly's docs advise against retry-as-scheduler): schedule → wait → one poll (whose transport
/// faults the resilience handler retries) → repeat, under a deadline and the caller's cancellation token.
/// </summary>
internal sealed class PredictionWaiter(NanoBananaProtocolClient protocol, LatencyStatistics statistics, PollingOptions options, TimeProvider time, ILogger logger)
{
    public TimeProvider Time => time;

    public TimeSpan Elapsed(PollState state) => time.GetElapsedTime(state.StartTimestamp);

    /// <summary>
    /// When the service most likely created a job whose (asynchronous) submit left at <paramref name="sent"/> and was
    /// answered just now: half a typical round trip ago, not when the submit left. A submit's time on the wire
    /// includes uploads, the server's own work, transport retries and rate-limit waits, none of which the job spends
    /// running; counted from the send, every poll of the job would go out that much early. Measured over HTTP: the
    /// first submits of a fresh process took about 0.3 s against the emulator (at time scale 0.1, 3 s of catalog time),
    /// so the first eight jobs polled first at 1.4 s where the plan said 4.65 s.
    /// </summary>
    public long AcceptedTimestamp(long sent)
    {
        var now = time.GetTimestamp();
        var back = (long)(statistics.TypicalRoundTrip() / 2 * time.TimestampFrequency);
        return Math.Max(sent, now - back);
    }

    /// <summary>Sends one poll and updates the state.</summary>
    public async Task<Prediction> PollOnceAsync(PollState state, CancellationToken cancellationToken)
    {
        await state.PollGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await PollOnceCoreAsync(state, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            state.PollGate.Release();
        }
    }

    private async Task<Prediction> PollOnceCoreAsync(PollState state, CancellationToken cancellationToken)
    {
        using var span = GuardedSpan.Start("nanobanana.poll", ActivityKind.Client);
        var activity = span.Activity;
        activity?.SetTag(NanoBananaTelemetry.TagPrediction, state.LogId); // the tag rule (SafeText.Value), worked out once per wait
        activity?.SetTag(NanoBananaTelemetry.TagModel, state.Model.Id);
        NanoBananaTelemetry.Polls.Add(1, new KeyValuePair<string, object?>(NanoBananaTelemetry.TagModel, state.Model.Id));
        state.PollCount++;
        state.Basis ??= state.StartUnknown ? null : statistics.Basis(state.Model);
        var sent = time.GetTimestamp();
        Prediction prediction;
        if (state.PollUrl is { } foreign && !protocol.IsApiHost(foreign))
        {
            Log.ForeignPollUrl(logger, state.LogId, foreign.Host);
            state.PollUrl = null;
        }

        var attempts = new AttemptClock(time);
        prediction = await protocol.GetPredictionAsync(state.PollUrl, state.Id, state.ExpectsInline, cancellationToken, attempts).ConfigureAwait(false);
        var received = time.GetTimestamp();

        // The answer is the last transport attempt's: time the poll by it. After retries (a 503, a 429 waited out) the
        // whole exchange would put the service's look at the job seconds too early, and the next poll's round-trip
        // allowance seconds too large. Without the SDK's resilience handler no attempt is marked (0): the whole exchange.
        var answered = Math.Max(attempts.LastSent, sent);
        state.LastRoundTrip = time.GetElapsedTime(answered, received);
        statistics.RecordRoundTrip(state.LastRoundTrip.TotalSeconds);

        // The service saw the job in this state about half a round trip after the request left.
        var elapsed = (time.GetElapsedTime(state.StartTimestamp, answered) + (state.LastRoundTrip / 2)).TotalSeconds;
        if (state.IntendedSendTimestamp != 0)
        {
            // A poll cycle takes its delay plus the timer's lateness plus the exchange (retries included): what a fixed
            // loop really costs.
            statistics.RecordPollCycleOverhead(time.GetElapsedTime(state.IntendedSendTimestamp, received).TotalSeconds);
            state.IntendedSendTimestamp = 0;
        }

        if (double.IsFinite(state.PlannedArrival))
        {
            statistics.RecordPollTiming(elapsed - state.PlannedArrival);
            state.PlannedArrival = double.NaN;
        }

        if (!state.AnswerNamedOtherId && prediction.Id.Length > 0 && !string.Equals(prediction.Id, state.Id, StringComparison.Ordinal))
        {
            // The answer came for the id polled, so it is read as that prediction's (its id is the one a caller resumes
            // by). Refusing it would fail every job on a relay that rewrites ids; taking it silently would hide a relay
            // that mixes up answers. So: said once per wait.
            state.AnswerNamedOtherId = true;
            Log.PollAnswerNamesOtherId(logger, state.LogId, SafeText.Value(prediction.Id));
        }

        // A word the SDK does not know is waited through but teaches nothing: it may mean the job ended long ago (a
        // relay's "succeeded"), and learning it as "still running" would teach the schedule that jobs take as long as
        // the deadline, in this client and in every process that loads its completion times.
        var familiar = StatusVocabulary.IsFamiliar(prediction.Status.Value);
        if (!familiar && protocol.Statuses.FirstUnfamiliar(prediction.Status.Value))
        {
            Log.UnfamiliarStatus(logger, state.LogId, state.Model.Id, prediction.Status.Value, protocol.Setting("StatusAliases"));
        }

        activity?.SetTag(NanoBananaTelemetry.TagStatus, SafeText.Value(prediction.Status.Value));
        Log.Polled(logger, state.LogId, state.PollCount, prediction.Status.Value, elapsed * 1000);
        if (familiar && !state.StartUnknown && state.Latest?.Status.IsTerminal != true && (prediction.Status.IsCompleted || !prediction.Status.IsTerminal))
        {
            statistics.RecordPollOutcome(state.Model, state.Basis, state.LastPendingElapsed, elapsed, prediction.Status.IsCompleted);
        }

        if (prediction.Status.IsTerminal && state.Latest?.Status.IsTerminal != true)
        {
            RecordLatency(state, prediction, elapsed);
        }
        else if (!prediction.Status.IsTerminal && familiar)
        {
            state.LastPendingElapsed = elapsed;
            state.LastPendingRoundTrip = state.LastRoundTrip.TotalSeconds;
        }

        Record(state, prediction);
        return prediction;
    }

    /// <summary>
    /// Makes <paramref name="prediction"/> the latest answer about the job. An answer that reports it completed without
    /// outputs leaves it awaiting them (not ended) while rechecks remain: set before the answer is, and cleared after, so
    /// that a reader never takes such an answer for the end.
    /// </summary>
    public void Record(PollState state, Prediction prediction)
    {
        if (PollState.CompletedWithoutOutputs(prediction) && state.Id.Length > 0 && ++state.EmptyCompletions <= options.EmptyCompletionRechecks)
        {
            state.AwaitingOutputs = true;
            state.Latest = prediction;
        }
        else
        {
            state.Latest = prediction;
            state.AwaitingOutputs = false;
        }
    }

    /// <summary>Records a completion time from an immediate (sync-mode) answer: the service answered when the job finished.</summary>
    public void RecordImmediate(PollState state, Prediction prediction)
    {
        if (prediction.Status.IsCompleted && TeachesNow(state))
        {
            statistics.RecordExact(state.Model, Elapsed(state).TotalSeconds);
        }
    }

    // What this wait saw: the completion happened in (last "still running" answer, this answer]. The service's
    // execution time narrows that to a point only inside the interval, and only once the model's reports have agreed
    // with what polling saw (LatencyStatistics.RecordCompletion). A resumed prediction's start is unknown, so it teaches
    // nothing.
    private void RecordLatency(PollState state, Prediction prediction, double observedAt)
    {
        if (!prediction.Status.IsCompleted || !TeachesNow(state))
        {
            return;
        }

        if (statistics.RecordCompletion(state.Model, state.LastPendingElapsed, observedAt, prediction.ExecutionTime?.TotalSeconds, state.LastPendingRoundTrip) == ReportedTimeUse.Refuted)
        {
            Log.ExecutionTimeRefuted(logger, state.Model.Id, prediction.ExecutionTime!.Value.TotalMilliseconds, state.LastPendingElapsed * 1000, state.LogId);
        }
    }

    // A wait that ended before the job did (deadline, cancellation) still says the job took longer than the last
    // "still running" answer: a right-censored observation, so slow services are not learnt as fast ones.
    private void RecordUnfinished(PollState state)
    {
        // Before any "still running" answer the wait says nothing (RecordCensored ignores a bound of 0), and the job may
        // still teach its completion to a later wait.
        if (state.LastPendingElapsed > 0 && state.Latest?.Status.IsTerminal != true && TeachesNow(state))
        {
            statistics.RecordCensored(state.Model, state.LastPendingElapsed);
        }
    }

    // Whether this job may teach the estimate now, and if so marks it as having done so: once per job (PollState.Taught),
    // and never for a job whose start is unknown (resumed, or accepted by an answer that broke off). Called last in each condition, when all else holds.
    private static bool TeachesNow(PollState state)
    {
        if (state.StartUnknown || state.Taught)
        {
            return false;
        }

        state.Taught = true;
        return true;
    }

    /// <summary>
    /// One status check under the deadline, with the same retry discipline as the wait loop: unreadable bodies and
    /// transient failures are retried with a growing backoff, bounded by counts and by the deadline.
    /// </summary>
    /// <exception cref="PredictionTimeoutException">The deadline passed; the exception carries the id.</exception>
    /// <exception cref="PredictionCanceledException">The caller cancelled; the exception carries the id.</exception>
    public async Task<Prediction> CheckAsync(PollState state, long deadlineTimestamp, CancellationToken cancellationToken)
    {
        try
        {
            return await CheckCoreAsync(state, new WaitDeadline(deadlineTimestamp), cancellationToken).ConfigureAwait(false);
        }
        catch (NanoBananaException ex) when (ex.KnowModel(state.Id, state.Model.Id))
        {
            throw; // never reached: see WaitAsync
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && ex is not PredictionCanceledException)
        {
            throw Canceled(state, ex, cancellationToken);
        }
        catch (Exception ex) when (IsForeign(ex, cancellationToken))
        {
            throw WaitBroken(state, ex);
        }
    }

    // The deadline may move later while a check runs (a wait joined the loop): a step that reached the old one goes on.
    private async Task<Prediction> CheckCoreAsync(PollState state, WaitDeadline deadline, CancellationToken cancellationToken)
    {
        var malformed = 0;
        var failures = 0;
        var notFound = 0; // of the failures, the latest run of 404 answers
        while (true)
        {
            var deadlineTimestamp = deadline.Timestamp;
            var remaining = time.GetElapsedTime(time.GetTimestamp(), deadlineTimestamp);
            if (remaining <= TimeSpan.Zero)
            {
                throw Timeout(state, deadlineTimestamp);
            }

            using (var deadlineCts = new CancellationTokenSource(remaining, time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadlineCts.Token))
            {
                try
                {
                    return await PollOnceAsync(state, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (deadlineCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    if (deadline.Timestamp == deadlineTimestamp)
                    {
                        throw Timeout(state, deadlineTimestamp);
                    }

                    continue; // cut at a deadline that has moved on since: ask again
                }
                catch (MalformedResponseException ex) when (++malformed <= options.MaxConsecutiveMalformed)
                {
                    Log.PollRetry(logger, state.LogId, ex.Message);
                }
                catch (NanoBananaApiException ex) when (IsRetryablePollFailure(ex))
                {
                    notFound = ex.StatusCode == HttpStatusCode.NotFound ? notFound + 1 : 0;
                    if (++failures > options.MaxConsecutivePollFailures)
                    {
                        if (notFound > 0)
                        {
                            throw NotFound(state, ex, notFound);
                        }

                        throw;
                    }

                    Log.PollRetry(logger, state.LogId, ex.Message);
                }
            }

            // After a failed check, back off at least as much as the minimum interval grows.
            var backoff = TimeSpan.FromTicks(options.MinInterval.Ticks * (1L << Math.Min(failures + malformed, 6)));
            await BackOffAsync(state, deadline, backoff, cancellationToken).ConfigureAwait(false);
        }
    }

    // Waits out a backoff. A deadline that comes first ends the wait, unless it moved on meanwhile (a wait joined): then
    // the rest of the backoff is waited under the later one.
    private async Task BackOffAsync(PollState state, WaitDeadline deadline, TimeSpan backoff, CancellationToken cancellationToken)
    {
        while (true)
        {
            var deadlineTimestamp = deadline.Timestamp;
            var remaining = time.GetElapsedTime(time.GetTimestamp(), deadlineTimestamp);
            if (backoff < remaining)
            {
                await DelayAsync(backoff, cancellationToken).ConfigureAwait(false);
                return;
            }

            await SleepToDeadlineAsync(state, deadline, deadlineTimestamp, remaining, cancellationToken, cancellationToken).ConfigureAwait(false); // nothing wakes a backoff
            backoff -= remaining;
        }
    }

    // Sleeps until the deadline, read as deadlineTimestamp, is reached: then the wait times out, unless a wait that joined
    // meanwhile moved the deadline on or woke the loop (wake), and this returns.
    private async Task SleepToDeadlineAsync(PollState state, WaitDeadline deadline, long deadlineTimestamp, TimeSpan remaining, CancellationToken wake, CancellationToken cancellationToken)
    {
        if (!await SleepAsync(remaining, wake, cancellationToken).ConfigureAwait(false) && deadline.Timestamp == deadlineTimestamp)
        {
            throw Timeout(state, deadlineTimestamp);
        }
    }

    /// <summary>Waits until the prediction is terminal or the deadline passes.</summary>
    /// <exception cref="PredictionTimeoutException">The deadline passed; the exception carries the id.</exception>
    /// <exception cref="PredictionCanceledException">The caller cancelled; the exception carries the id.</exception>
    /// <exception cref="NanoBananaException">Any other failure, with the id (the cause is the inner exception).</exception>
    public async Task<Prediction> WaitAsync(PollState state, WaitSchedules schedules, WaitDeadline deadline, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return await WaitCoreAsync(state, schedules, deadline, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (NanoBananaException ex) when (ex.KnowModel(state.Id, state.Model.Id))
        {
            throw; // never reached: the filter only records the model on the SDK's own exceptions about this prediction
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && ex is not PredictionCanceledException)
        {
            RecordUnfinished(state);
            throw Canceled(state, ex, cancellationToken);
        }
        catch (PredictionTimeoutException)
        {
            RecordUnfinished(state);
            throw;
        }
        catch (Exception ex) when (IsForeign(ex, cancellationToken))
        {
            // Anything else (a bug in an HTTP handler of the caller's, an HttpClient disposed or timed out mid-wait) must
            // not cost the id of an accepted job: the caller gets it in a NanoBananaException, with the cause inside.
            RecordUnfinished(state);
            throw WaitBroken(state, ex);
        }
    }

    // Any failure that is not the caller's cancellation nor one of ours, with the id: see WaitAsync.
    private static NanoBananaException WaitBroken(PollState state, Exception inner) => Broken(state.Id, state.Model, state.Status.Value, inner);

    /// <summary>
    /// Whether <paramref name="ex"/> is neither one of the SDK's own exceptions nor the caller's cancellation: a failure of
    /// something else (an HTTP handler, a listener, a disposed HttpClient) that must reach the caller as <see cref="Broken"/>.
    /// </summary>
    internal static bool IsForeign(Exception ex, CancellationToken callerToken) =>
        ex is not NanoBananaException && (ex is not OperationCanceledException || !callerToken.IsCancellationRequested);

    /// <summary>
    /// A failure after acceptance that is neither the caller's cancellation nor one of the SDK's own exceptions, as a
    /// <see cref="NanoBananaException"/> that carries the prediction id (the cause inside).
    /// </summary>
    internal static NanoBananaException Broken(string id, ImageModel model, string lastStatus, Exception inner)
    {
        var shown = SafeText.Value(id); // in the message; PredictionId keeps the id exactly, for resuming
        return new($"Waiting for prediction {shown} on {model.DisplayName} failed: {SafeText.Printable(inner.Message)} ({inner.GetType().Name}; last status: {SafeText.Value(lastStatus)}). " +
            $"The prediction was accepted and runs on; it is billed if it completes. Resume with {ResumeCall(id, model.Id)}.", inner)
        {
            PredictionId = id,
            ModelId = model.Id,
        };
    }

    /// <summary>
    /// Tells the progress callback about the current status unless it already knows it. A callback that throws is
    /// logged (event 26) and the wait goes on: the job is accepted and may be billed, and a bug in the caller's
    /// reporting must not cost it (the exception would otherwise end the wait, right after acceptance before the caller
    /// holds the id).
    /// </summary>
    public void Report(PollState state, IProgress<GenerationProgress>? progress)
    {
        if (progress is not null && state.LastReported != state.Status)
        {
            state.LastReported = state.Status;
            ReportNow(state, progress);
        }
    }

    /// <summary>Reports the current status to <paramref name="progress"/> at once (a wait that joins one already running), guarded as <see cref="Report"/>.</summary>
    public void ReportNow(PollState state, IProgress<GenerationProgress> progress)
    {
        try
        {
            progress.Report(new GenerationProgress(state.Id, state.Model, state.Status, Elapsed(state), state.PollCount, state.Attempt));
        }
        catch (Exception ex)
        {
            Log.ProgressCallbackFailed(logger, state.LogId, state.Status.Value, ex);
        }
    }

    private async Task<Prediction> WaitCoreAsync(PollState state, WaitSchedules schedules, WaitDeadline deadline, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        long? lastLookBefore = null; // the deadline the last look was taken for: one per deadline, so one per wait unless a later wait joined
        long? sendBy = null; // when a wait joined during a sleep: the poll planned before it, which the new decision may only bring forward
        while (true)
        {
            Report(state, progress);
            var deadlineTimestamp = deadline.Timestamp;
            var remaining = time.GetElapsedTime(time.GetTimestamp(), deadlineTimestamp);
            if (state.Latest is { Status.IsTerminal: true } done)
            {
                if (RecheckDelay(state, remaining) is not { } recheck)
                {
                    state.AwaitingOutputs = false;
                    return done;
                }

                // Reported completed, but no output listed: ask again shortly, as long as that fits before the deadline.
                // A failing recheck ends the wait on the completion already seen, as it would have ended without one.
                Log.RecheckingOutputs(logger, state.LogId, state.Model.Id, recheck.TotalMilliseconds, state.EmptyCompletions, options.EmptyCompletionRechecks);
                await DelayAsync(recheck, cancellationToken).ConfigureAwait(false);
                if (await RecheckAsync(state, deadline, cancellationToken).ConfigureAwait(false) is { } failed)
                {
                    state.AwaitingOutputs = false;
                    Log.RecheckFailed(logger, state.EmptyCompletions, state.LogId, failed.Message);
                    return done;
                }

                continue;
            }

            if (remaining <= TimeSpan.Zero)
            {
                throw Timeout(state, deadlineTimestamp);
            }

            var elapsed = Elapsed(state);
            var wake = schedules.WakeToken; // before the schedules are read: a wait that joins after this wakes the sleep below
            var delay = state.StartUnknown && state.PollCount == 0
                ? TimeSpan.Zero // re-attached by id, or accepted by an answer that broke off: ask at once
                : NextDelay(state, schedules.Current, elapsed);
            if (sendBy is { } planned)
            {
                var left = time.GetElapsedTime(time.GetTimestamp(), planned);
                delay = left < delay ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : delay;
            }

            if (delay >= remaining)
            {
                // The next planned poll falls past the deadline. The job may have ended since the last answer, so look
                // once more, early enough for the answer to arrive in time (two round trips, and at least the minimum
                // interval, before the deadline), unless that would come within the minimum interval of the last answer.
                // At most once per deadline (so per wait, unless a later wait joined): one request more, never a loop.
                var roundTrip = RoundTrip(state);
                var lastLook = remaining - TimeSpan.FromTicks(Math.Max(roundTrip.Ticks * 2, options.MinInterval.Ticks));
                if (lastLookBefore == deadlineTimestamp || lastLook <= TimeSpan.Zero || (state.PollCount > 0 && lastLook < options.MinInterval))
                {
                    await SleepToDeadlineAsync(state, deadline, deadlineTimestamp, remaining, wake, cancellationToken).ConfigureAwait(false);
                    continue; // woken by a wait that joined, or one moved the deadline on meanwhile
                }

                lastLookBefore = deadlineTimestamp;
                state.PlannedArrival = double.NaN; // not the schedule's poll: no lateness to learn from it
                delay = lastLook;
            }

            state.IntendedSendTimestamp = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
            if (await SleepAsync(delay, wake, cancellationToken).ConfigureAwait(false))
            {
                sendBy = state.IntendedSendTimestamp; // woken: decide again with the newcomer's schedule, never later than this
                continue;
            }

            sendBy = null;
            await CheckCoreAsync(state, deadline, cancellationToken).ConfigureAwait(false);
        }
    }

    // This job's last round trip, or before its first poll the typical one of the client's recent polls.
    private TimeSpan RoundTrip(PollState state) => state.PollCount > 0 ? state.LastRoundTrip : TimeSpan.FromSeconds(statistics.TypicalRoundTrip());

    // How long to wait before polling again a prediction reported completed without outputs (MinInterval × 2 after the
    // first such answer, × 4 after the second …), or null when the answer stands: it is not such an answer, the rechecks
    // are spent (Record), or the next one and its answer (two round trips) would not fit before the deadline.
    private TimeSpan? RecheckDelay(PollState state, TimeSpan remaining)
    {
        if (!state.AwaitingOutputs)
        {
            return null;
        }

        var delay = TimeSpan.FromTicks(options.MinInterval.Ticks << state.EmptyCompletions);
        var roundTrip = RoundTrip(state);
        return delay + (roundTrip * 2) < remaining ? delay : null;
    }

    // One recheck of a prediction reported completed without outputs: the SDK's own failures (a timeout, a poll that keeps
    // failing) are returned, not thrown, since the wait already has its answer; the caller's cancellation throws.
    private async Task<NanoBananaException?> RecheckAsync(PollState state, WaitDeadline deadline, CancellationToken cancellationToken)
    {
        try
        {
            await CheckCoreAsync(state, deadline, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (NanoBananaException ex)
        {
            return ex;
        }
    }

    // The delay the schedules ask for: the soonest of them. A schedule that plans arrivals at the service (the adaptive
    // one) is sent half a round trip earlier, and only its poll is one whose lateness the estimate learns from.
    private TimeSpan NextDelay(PollState state, IPollSchedule[] schedules, TimeSpan elapsed)
    {
        var context = new PollScheduleContext(state.Model, elapsed, state.PollCount, state.Status)
        {
            LastPollReached = TimeSpan.FromSeconds(state.LastPendingElapsed),
        };
        var soonest = TimeSpan.MaxValue;
        var plannedArrival = double.NaN;
        foreach (var schedule in schedules)
        {
            var delay = schedule.GetNextDelay(context);
            var arrival = double.NaN;
            if (schedule.CompensatesRoundTrip)
            {
                arrival = (elapsed + delay).TotalSeconds;

                // The schedule plans arrivals at the service, already spaced at least MinInterval apart; a request
                // gets there in about half a round trip: this job's last one, or before its first poll the typical
                // one of the client's recent polls. (Subtracting the whole round trip landed every poll half a
                // round trip early; keeping MinInterval between answer and send as well landed polls late whenever
                // the round trip was a large part of the gap.)
                var roundTrip = RoundTrip(state);
                var compensated = delay - (roundTrip / 2);
                delay = compensated > TimeSpan.Zero ? compensated : TimeSpan.Zero;
            }

            if (delay < soonest)
            {
                soonest = delay;
                plannedArrival = arrival;
            }
        }

        state.PlannedArrival = plannedArrival;
        return soonest;
    }

    // Sleeps for the delay; true when a wait that joined woke it first (the caller's cancellation still throws).
    private async Task<bool> SleepAsync(TimeSpan delay, CancellationToken wake, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return false;
        }

        try
        {
            await Task.Delay(delay, time, wake).ConfigureAwait(false);
            return false;
        }
        catch (OperationCanceledException) when (wake.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return true;
        }
    }

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, time, cancellationToken);

    private static bool IsRetryablePollFailure(NanoBananaApiException ex) =>
        ex is not MalformedResponseException
        && (ex.StatusCode is null || ex.StatusCode == HttpStatusCode.NotFound || NanoBananaResilienceHandler.IsTransientStatus(ex.StatusCode.Value))
        && ex.ErrorCode != NanoBananaErrorCodes.Redirect;

    // The call that resumes: with the id as an exact, printable literal (SafeText.Quoted) when that is no longer than a
    // shown value may be, otherwise with the exception's PredictionId, which always holds the exact id.
    internal static string ResumeCall(string id, string modelId) =>
        SafeText.Quoted(id) is { Length: <= SafeText.MaxValueChars + 2 } literal
            ? $"client.ResumeAsync({literal}, \"{modelId}\")"
            : $"client.ResumeAsync(exception.PredictionId, \"{modelId}\")";

    // Polls answered 404 through the retries. What it most likely means depends on where the id came from, and the
    // message says so: a resumed id is probably wrong or expired; a job accepted moments ago may still run and be billed.
    private PredictionNotFoundException NotFound(PollState state, NanoBananaApiException cause, int answers)
    {
        var polls = answers == 1 ? "a poll" : $"{answers} polls in a row";
        var text = state.Resumed
            ? $"The service does not know prediction {state.LogId}: {polls} answered 404 (Not Found). The id may be mistyped or belong to another account, " +
                $"provider or base URL, or the prediction has expired (WaveSpeedAI keeps predictions 7 days). {cause.Message}"
            : $"The service answered 404 (Not Found) to {polls} for prediction {state.LogId} on {state.Model.DisplayName}, which it accepted {Elapsed(state).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s before. " +
                $"A relay that is slow to learn new ids answers so: the job may still run and is billed if it completes. It was not submitted again. " +
                $"Resume later with {ResumeCall(state.Id, state.Model.Id)}. {cause.Message}";
        return new PredictionNotFoundException(text, cause)
        {
            PredictionId = state.Id,
            ModelId = state.Model.Id,
            WasResumed = state.Resumed,
        };
    }

    internal static PredictionCanceledException Canceled(PollState state, OperationCanceledException inner, CancellationToken token) =>
        new($"Waiting for prediction {state.LogId} on {state.Model.DisplayName} was cancelled (last status: {SafeText.Value(state.Status.Value)}). The prediction was accepted " +
            $"and runs on; it is billed if it completes. Resume with {ResumeCall(state.Id, state.Model.Id)}.", inner, token)
        {
            PredictionId = state.Id,
            ModelId = state.Model.Id,
            LastStatus = state.Status.Value,
        };

    // A wait that ended on a word the SDK does not know may have ended long ago: say how to let the SDK read it.
    private string UnfamiliarStatusHint(string? status) => status is null or "" || StatusVocabulary.IsFamiliar(status)
        ? ""
        : $"The SDK does not know the status '{SafeText.Value(status)}' and read it as still running; if the service means finished by it, {Log.StatusAliasHint(protocol.Setting("StatusAliases"))} and resume. ";

    /// <summary>
    /// The timeout of a wait whose deadline was <paramref name="deadlineTimestamp"/>: logged, with the id and the resume
    /// hint, and counted as a failed job unless other waits on the job go on (<paramref name="othersWait"/>).
    /// </summary>
    internal PredictionTimeoutException Timeout(PollState state, long deadlineTimestamp, bool othersWait = false)
    {
        var deadline = time.GetElapsedTime(state.StartTimestamp, deadlineTimestamp);
        Log.DeadlineExceeded(logger, state.LogId, deadline);
        if (!othersWait)
        {
            NanoBananaTelemetry.JobsFailed.Add(1, new KeyValuePair<string, object?>(NanoBananaTelemetry.TagModel, state.Model.Id));
        }

        return new PredictionTimeoutException(
            $"Prediction {state.LogId} on {state.Model.DisplayName} did not finish within its deadline of {deadline} (last status: {SafeText.Value(state.Status.Value)}). " +
            UnfamiliarStatusHint(state.Status.Value) +
            $"It may still complete and is billed if it does: resume waiting with its id ({ResumeCall(state.Id, state.Model.Id)} or client.GetOperation).")
        {
            PredictionId = state.Id,
            LastStatus = state.Status.Value,
            ModelId = state.Model.Id,
        };
    }
}
