using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NanoBanana.Diagnostics;
using NanoBanana.Routing;

namespace NanoBanana.Batch;

// One run of a batch: claims each job in the journal, keeps inside the account's limits and the budgets, submits or
// resumes, and streams each job's result as it ends. Jobs another worker holds are taken up again at the end, once
// that worker finishes them or its lease runs out.
internal sealed class BatchRunner : IDisposable
{
    private const int MaxKeyLength = 200;

    // Attempts at a journal write that records an accepted job's fate (a locked file, a dropped connection).
    private const int JournalAttempts = 3;

    private readonly INanoBananaClient _client;
    private readonly BatchOptions _options;
    private readonly IPredictionJournal _journal;
    private readonly TimeProvider _time;
    private readonly AdaptiveConcurrencyLimiter _slots;
    private readonly RollingWindowRateLimiter? _rate;
    private readonly ConcurrencyLimiter? _account;

    // Batches that run at once in one process against one account share it: one rate window and one count of tasks in
    // flight per account, limits and clock. The account is the API host and a hash of the key (the key itself is not
    // kept); a client of another kind is its own account, for as long as it lives. Without this, two batches at once
    // would each send the account's whole rate. (A journal that is an ISharedAccountGate also covers other processes.)
    private static readonly ConcurrentDictionary<string, ConcurrentDictionary<AccountKey, SharedAccount>> Accounts = new(StringComparer.Ordinal);
    private static readonly ConditionalWeakTable<INanoBananaClient, ConcurrentDictionary<AccountKey, SharedAccount>> ClientAccounts = new();

    private readonly record struct AccountKey(int Tasks, int Images, TimeSpan Window, TimeProvider Time);

    private sealed record SharedAccount(RollingWindowRateLimiter Rate, ConcurrencyLimiter Tasks);
    private readonly IProgress<BatchProgress>? _progress;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private BatchProgress _state = new();
    private readonly ConcurrentDictionary<string, long> _unknownSince = new(StringComparer.Ordinal);

    // Set once the service refuses the account (401, 402, 403): no job of this run is sent after it.
    private volatile string? _accountRefused;

    // Cancelled when the caller stops reading results (done, or left the loop): a job waiting to hand its result over
    // gives up then.
    private readonly CancellationTokenSource _readerGone = new();

    public BatchRunner(INanoBananaClient client, BatchOptions options, IProgress<BatchProgress>? progress)
    {
        options.Validate();
        if (options.WebhookUrl is not null && client is NanoBananaClient concrete && Protocol.ProviderProfile.WebhooksUnsupported(concrete.Options.Provider) is { } why)
        {
            throw new ArgumentException("BatchOptions.WebhookUrl: " + why, nameof(options));
        }

        _client = client;
        _options = options;
        _journal = options.Journal ?? new InMemoryPredictionJournal(options.TimeProvider);
        _time = options.TimeProvider ?? TimeProvider.System;
        _slots = new AdaptiveConcurrencyLimiter(Math.Min(options.MaxConcurrency, options.Limits?.ConcurrentTasks ?? int.MaxValue));
        if (options.Limits is { } limits)
        {
            var account = AccountOf(client).GetOrAdd(
                new AccountKey(limits.ConcurrentTasks, limits.ImagesPerWindow, limits.Window, _time),
                k => new SharedAccount(
                    new RollingWindowRateLimiter(k.Images, k.Window, k.Time),
                    new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = k.Tasks, QueueLimit = int.MaxValue })));
            (_rate, _account) = (account.Rate, account.Tasks);
        }

        _progress = progress;
        _logger = (client as NanoBananaClient)?.Logger ?? NullLogger.Instance;
        _state = _state with { Concurrency = _slots.Limit };
    }

    public async IAsyncEnumerable<BatchItemResult> RunAsync(IAsyncEnumerable<BatchJob> jobs, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Results wait for the caller: a caller busy with one holds the batch back once as many are queued as jobs may
        // run at once. Unbounded, the batch ran on and every result (with its image, when inline) waited in memory.
        var results = Channel.CreateBounded<BatchItemResult>(new BoundedChannelOptions(Math.Max(1, _options.MaxConcurrency)) { SingleReader = true });
        var producer = Task.Run(() => ProduceAsync(jobs, results.Writer, stop.Token), CancellationToken.None);
        try
        {
            await foreach (var result in results.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return result;
            }
        }
        finally
        {
            // The caller stopped reading (or everything is done): stop the producer and let it put its house in order.
            await _readerGone.CancelAsync().ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Dispose();
        }

        cancellationToken.ThrowIfCancellationRequested();
        await producer.ConfigureAwait(false); // surfaces a failure of the source itself
    }

    public void Dispose()
    {
        _readerGone.Dispose();
        _slots.Dispose(); // the account's limiters are shared with other batches of the client: not disposed here
    }

    private static ConcurrentDictionary<AccountKey, SharedAccount> AccountOf(INanoBananaClient client)
    {
        if (client is NanoBananaClient { Options: var o } && o.EffectiveApiKey is { Length: > 0 } key)
        {
            var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
            return Accounts.GetOrAdd(o.EffectiveBaseUrl.GetLeftPart(UriPartial.Authority) + " " + hash, _ => new());
        }

        return ClientAccounts.GetValue(client, _ => new());
    }

    // A slot of this batch's (adaptive) concurrency, then one of the account's tasks shared by the client's batches.
    private async ValueTask<RateLimitLease> AcquireSlotAsync(CancellationToken ct)
    {
        var own = await _slots.AcquireAsync(1, ct).ConfigureAwait(false);
        if (_account is null)
        {
            return own;
        }

        try
        {
            return new BothLeases(own, await _account.AcquireAsync(1, ct).ConfigureAwait(false));
        }
        catch
        {
            own.Dispose();
            throw;
        }
    }

    private sealed class BothLeases(RateLimitLease first, RateLimitLease second) : RateLimitLease
    {
        private int _secondReleased;

        public override bool IsAcquired => first.IsAcquired && second.IsAcquired;

        /// <summary>Gives the account's task back before the batch's own slot (a job done at the service, waiting for the caller).</summary>
        public void ReleaseSecond()
        {
            if (Interlocked.Exchange(ref _secondReleased, 1) == 0)
            {
                second.Dispose();
            }
        }

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                ReleaseSecond();
                first.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private async Task ProduceAsync(IAsyncEnumerable<BatchJob> jobs, ChannelWriter<BatchItemResult> results, CancellationToken ct)
    {
        using var renewing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewal = RenewLeasesAsync(renewing.Token);
        var running = new ConcurrentDictionary<Task, byte>();
        var busy = new ConcurrentQueue<BatchJob>();
        var seenKeys = new HashSet<string>(StringComparer.Ordinal);
        var seenFiles = _options.OutputDirectory is null ? null : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        Exception? sourceFailure = null;
        try
        {
            try
            {
                await foreach (var job in jobs.WithCancellation(ct).ConfigureAwait(false))
                {
                    Update(s => s with { Seen = s.Seen + 1 });
                    if ((Invalid(job, seenKeys) ?? SameFile(job!, seenFiles)) is { } problem)
                    {
                        await PublishAsync(results, new BatchItemResult { Key = job?.Key ?? "", Outcome = BatchOutcome.Failed, Error = problem }).ConfigureAwait(false);
                        continue;
                    }

                    // A slot before the next job starts: the source is read no faster than jobs can run.
                    var slot = await AcquireSlotAsync(ct).ConfigureAwait(false);
                    var task = RunOneAsync(job, slot, results, busy, ct);
                    running.TryAdd(task, 0);
                    _ = task.ContinueWith(t => running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                sourceFailure = ex;
            }

            await Task.WhenAll(running.Keys).ConfigureAwait(false);

            // Jobs another worker held: wait for it to finish them or for its lease to run out, then take them over.
            while (!busy.IsEmpty && !ct.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromTicks(Math.Min(_options.Lease.Ticks / 4, TimeSpan.FromSeconds(2).Ticks)), _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                var again = new List<Task>();
                while (busy.TryDequeue(out var job) && !ct.IsCancellationRequested)
                {
                    RateLimitLease slot;
                    try
                    {
                        slot = await AcquireSlotAsync(ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }

                    again.Add(RunOneAsync(job, slot, results, busy, ct));
                }

                await Task.WhenAll(again).ConfigureAwait(false);
            }
        }
        finally
        {
            await renewing.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

            // Hand back whatever this worker still holds (cancelled, pending), so a re-run takes it over at once.
            await _journal.RenewLeasesAsync(_options.WorkerId, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
            results.TryComplete(sourceFailure);
        }
    }

    private async Task RunOneAsync(BatchJob job, RateLimitLease slot, ChannelWriter<BatchItemResult> results, ConcurrentQueue<BatchJob> busy, CancellationToken ct)
    {
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding); // off the caller's thread, never onto its context
        using (slot)
        {
            Update(s => s with { InFlight = s.InFlight + 1 });
            BatchItemResult? result;
            try
            {
                result = await ProcessAsync(job, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // A failed item never stops the batch (a stray cancellation that is not the caller's included).
                result = new BatchItemResult { Key = job.Key, Outcome = BatchOutcome.Failed, Size = job.Job.Size, Error = ex.Message };
            }
            finally
            {
                Update(s => s with { InFlight = s.InFlight - 1 });
            }

            if (result is null)
            {
                busy.Enqueue(job);
                return;
            }

            // The job is done at the service: the account's task goes back at once (other batches on the account may use
            // it), while this batch's own slot is held until the caller takes the result, so a busy caller holds it back.
            (slot as BothLeases)?.ReleaseSecond();
            await PublishAsync(results, result).ConfigureAwait(false);
        }
    }

    // One job, from the journal's point of view. Null: another worker holds it for now.
    private async Task<BatchItemResult?> ProcessAsync(BatchJob batchJob, CancellationToken ct)
    {
        var key = batchJob.Key;
        var job = batchJob.Job;
        var rateLimited = 0;
        var backoff = _options.RateLimitBackoff;
        while (true)
        {
            var (claim, entry) = await _journal.ClaimAsync(key, _options.WorkerId, _options.Lease, ct).ConfigureAwait(false);
            switch (claim)
            {
                case JournalClaim.Busy:
                    return null;
                case JournalClaim.Done:
                    return new BatchItemResult { Key = key, Outcome = BatchOutcome.AlreadyCompleted, PredictionId = entry!.PredictionId, ModelId = entry.ModelId, Size = job.Size, CostUsd = entry.ChargeUsd, OutputPath = entry.OutputPath };
                case JournalClaim.Failed:
                    return new BatchItemResult { Key = key, Outcome = BatchOutcome.Failed, PredictionId = entry!.PredictionId, ModelId = entry.ModelId, Size = job.Size, CostUsd = entry.ChargeUsd, Error = "failed in an earlier run: " + entry.Error };
                case JournalClaim.Resume:
                    // A prediction recorded from a webhook has no model id yet: the job's own route gives it.
                    var modelId = entry!.ModelId ?? RoutedModelId(job, key);
                    ImageGenerationOperation resumed;
                    try
                    {
                        resumed = _client.GetOperation(entry.PredictionId!, modelId);
                    }
                    catch (ArgumentException ex)
                    {
                        // An id no poll can reach ("..", from a service): the entry stays Accepted, its id reported.
                        return new BatchItemResult { Key = key, Outcome = BatchOutcome.Pending, PredictionId = entry.PredictionId, ModelId = modelId, Size = job.Size, CostUsd = entry.ChargeUsd, Error = ex.Message };
                    }

                    return await WaitAsync(key, job, resumed, entry.ChargeUsd, 0, ct).ConfigureAwait(false);
                case JournalClaim.Unknown when AwaitingWebhook(key):
                    return null; // retried with the jobs held elsewhere, without holding a slot
                case JournalClaim.Unknown when !_options.ResubmitUnknown:
                    return Unknown(key, job.Size, modelId: null, why: null);
            }

            // Submit (new, skipped before, or unknown with the caller's consent). A later unknown outcome waits afresh.
            if (_accountRefused is { } refused)
            {
                return await NotSentAsync(key, job, modelId: null, refused).ConfigureAwait(false);
            }

            _unknownSince.TryRemove(key, out _);
            RoutingDecision decision;
            ImageJob toSend;
            try
            {
                toSend = ToSend(job, key);
                decision = _client.Route(toSend);
            }
            catch (Exception ex) when (ex is ArgumentException or NoCapableModelException)
            {
                await _journal.FailedAsync(key, ex.Message, billed: false, CancellationToken.None).ConfigureAwait(false);
                return new BatchItemResult { Key = key, Outcome = BatchOutcome.Failed, Size = job.Size, Error = ex.Message };
            }

            // The reservation covers the dearest model the job may end up on.
            var reserve = decision.Model.PriceOrZero(job.Size);
            if (toSend.AllowFallback == true)
            {
                foreach (var fallback in decision.Fallbacks)
                {
                    reserve = Math.Max(reserve, fallback.PriceOrZero(job.Size));
                }
            }

            // The rate permit is held for the whole submit exchange: the service may count the submit at any moment of it.
            // On a shared store, the account's limits across every worker come from the store as well.
            RateLimitLease? permit = null;
            long? ticket = null;
            try
            {
                if (_rate is not null)
                {
                    permit = await _rate.AcquireAsync(1, ct).ConfigureAwait(false);
                }

                if (_journal is ISharedAccountGate gate && _options.Limits is { } limits)
                {
                    while (ticket is null)
                    {
                        (ticket, var retryAfter) = await gate.TryEnterSubmitAsync(_options.WorkerId, limits, ct).ConfigureAwait(false);
                        if (ticket is null)
                        {
                            await Task.Delay(retryAfter, _time, ct).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
                permit?.Dispose();
                await _journal.ReleaseAsync(key, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            ImageGenerationOperation? operation = null;
            using (permit)
            await using (new SharedTicket(_journal as ISharedAccountGate, ticket, _logger))
            {
                if (_accountRefused is { } refusedMeanwhile)
                {
                    return await NotSentAsync(key, job, decision.Model.Id, refusedMeanwhile).ConfigureAwait(false);
                }

                var day = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
                if (!await _journal.BeginSubmitAsync(key, _options.WorkerId, reserve, _options.BudgetUsd, _options.DailyBudgetUsd, day, ct).ConfigureAwait(false))
                {
                    var why = $"its estimate of ${reserve} would cross the budget (batch {Usd(_options.BudgetUsd)}, daily {Usd(_options.DailyBudgetUsd)})";
                    await _journal.SkippedAsync(key, why, CancellationToken.None).ConfigureAwait(false);
                    return new BatchItemResult { Key = key, Outcome = BatchOutcome.SkippedOverBudget, ModelId = decision.Model.Id, Size = job.Size, Error = why };
                }

                try
                {
                    operation = await _client.StartGenerationAsync(toSend, ct).ConfigureAwait(false);
                }
                catch (SubmitOutcomeUnknownException ex)
                {
                    // The intent stays "submitting": never sent again unless the caller opts in; a webhook may still name it.
                    return AwaitingWebhook(key) ? null : Unknown(key, job.Size, decision.Model.Id, ex.Message);
                }
                catch (NanoBananaApiException ex) when (IsRateLimited(ex))
                {
                    // Surely not accepted: release, slow down, and send it again after a wait. Never a blind resubmit.
                    await _journal.ReleaseAsync(key, CancellationToken.None).ConfigureAwait(false);
                    _slots.Decrease();
                    rateLimited++;
                    Update(s => s with { RateLimited = s.RateLimited + 1, Concurrency = _slots.Limit });
                }
                catch (NanoBananaApiException ex) when (IsAccountRefusal(ex))
                {
                    // The account, not the job: a bad or revoked key, no balance. Every other job would get the same answer,
                    // so none is sent after it; each stays unsent in the journal, and a re-run (with a key or balance that
                    // works) sends them.
                    if (Interlocked.CompareExchange(ref _accountRefused, $"the service refused the account ({ex.Message})", null) is null)
                    {
                        Log.BatchAccountRefused(_logger, (int)ex.StatusCode!.Value, SafeText.Value(key));
                    }

                    return await NotSentAsync(key, job, decision.Model.Id, ex.Message).ConfigureAwait(false);
                }
                catch (NanoBananaApiException ex) when (IsServiceUnavailable(ex))
                {
                    // Unavailable or unreachable, nothing billed: not the job's fault, so not a failure for good.
                    return await NotSentAsync(key, job, decision.Model.Id, ex.Message).ConfigureAwait(false);
                }
                catch (NanoBananaApiException ex)
                {
                    await _journal.FailedAsync(key, ex.Message, billed: false, CancellationToken.None).ConfigureAwait(false);
                    return new BatchItemResult { Key = key, Outcome = BatchOutcome.Failed, ModelId = decision.Model.Id, Size = job.Size, Error = ex.Message, RateLimitedSubmits = rateLimited };
                }
                catch (Exception ex) when (ex is OperationCanceledException or ArgumentException)
                {
                    // Cancelled or refused before anything was sent: nothing accepted.
                    await _journal.ReleaseAsync(key, CancellationToken.None).ConfigureAwait(false);
                    if (ex is OperationCanceledException)
                    {
                        throw;
                    }

                    await _journal.FailedAsync(key, ex.Message, billed: false, CancellationToken.None).ConfigureAwait(false);
                    return new BatchItemResult { Key = key, Outcome = BatchOutcome.Failed, Size = job.Size, Error = ex.Message };
                }
            }

            if (operation is null) // answered 429: nothing was accepted
            {
                await Task.Delay(backoff, _time, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, (_options.Limits?.Window ?? TimeSpan.FromMinutes(1)).Ticks));
                continue;
            }

            var cost = operation.Model.PriceOrZero(job.Size);
            var unrecorded = await RecordAsync(key, operation.Id, "was accepted", () => _journal.AcceptedAsync(key, operation.Id, operation.Model.Id, cost, CancellationToken.None)).ConfigureAwait(false);
            _slots.Increase();
            Update(s => s with { SpentUsd = s.SpentUsd + cost, Concurrency = _slots.Limit });
            var result = await WaitAsync(key, job, operation, cost, rateLimited, ct).ConfigureAwait(false);
            return unrecorded is null ? result : result with { Error = result.Error is null ? unrecorded : result.Error + "; " + unrecorded };
        }
    }

    // Whether a job whose submit may have been accepted is still waiting for the webhook that would name it: with a
    // webhook configured, until UnknownOutcomeWait has passed since this run first found it so.
    private bool AwaitingWebhook(string key)
    {
        if (_options.WebhookUrl is null)
        {
            return false;
        }

        var now = _time.GetTimestamp();
        return _time.GetElapsedTime(_unknownSince.GetOrAdd(key, now), now) < _options.UnknownOutcomeWait;
    }

    private BatchItemResult Unknown(string key, ImageSize size, string? modelId, string? why) => new()
    {
        Key = key,
        Outcome = BatchOutcome.OutcomeUnknown,
        ModelId = modelId,
        Size = size,
        Error = (why is null ? "a submit of this job may have reached the service (its worker stopped mid-submit); it" : why + " It")
            + " was not sent again."
            + (_options.WebhookUrl is null ? "" : $" No webhook named it within {_options.UnknownOutcomeWait.TotalSeconds:0.#} s.")
            + " Re-run with ResubmitUnknown to send it, at the risk of paying twice.",
    };

    // The job as a batch sends it: no fallback unless the job asks, the batch's webhook naming the job, and a 429 handed
    // back at once (the batch halves its concurrency and sends the job again later, which a client-side retry would hide).
    private ImageJob ToSend(ImageJob job, string key) => job with
    {
        AllowFallback = job.AllowFallback ?? false,
        RetrySubmitOnRateLimit = false,
        WebhookUrl = _options.WebhookUrl is { } hook ? BatchWebhookReceiver.ForJob(hook, key) : job.WebhookUrl,
    };

    private string? RoutedModelId(ImageJob job, string key)
    {
        try
        {
            return _client.Route(ToSend(job, key)).Model.Id;
        }
        catch (Exception ex) when (ex is ArgumentException or NoCapableModelException)
        {
            return null;
        }
    }

    private async Task<BatchItemResult> WaitAsync(string key, ImageJob job, ImageGenerationOperation operation, decimal cost, int rateLimited, CancellationToken ct)
    {
        var accepted = new BatchItemResult { Key = key, Outcome = BatchOutcome.Pending, PredictionId = operation.Id, ModelId = operation.Model.Id, Size = job.Size, CostUsd = cost, RateLimitedSubmits = rateLimited };
        ImageResult result;
        try
        {
            result = await operation.WaitForCompletionAsync(ct).ConfigureAwait(false);
        }
        catch (PredictionFailedException ex) when (new Protocol.PredictionStatus(ex.Status ?? "").IsCompleted)
        {
            // Completed, so paid, yet no output could be read: none listed even after the rechecks (a relay that lists
            // them late), or in a shape this SDK does not read. The image may exist, so the journal keeps the job
            // accepted and a re-run asks for it again, by its id; it is never submitted again.
            return accepted with { Error = ex.Message };
        }
        catch (PredictionFailedException ex)
        {
            // Counted as billed: GPT Proto bills accepted submits; WaveSpeed refunds failed tasks later.
            var unrecorded = await RecordAsync(key, operation.Id, "failed", () => _journal.FailedAsync(key, ex.Message, billed: true, CancellationToken.None)).ConfigureAwait(false);
            return accepted with { Outcome = BatchOutcome.Failed, Error = unrecorded is null ? ex.Message : ex.Message + "; " + unrecorded };
        }
        catch (Exception ex) when (ex is NanoBananaException or OperationCanceledException)
        {
            // Accepted and possibly paid: the journal keeps the id, and a re-run resumes it.
            return accepted with { Error = ex.Message };
        }

        string? path = null;
        if (_options.OutputDirectory is { } folder)
        {
            path = Path.Combine(folder, OutputFileName(key, job.OutputFormat));
            try
            {
                Directory.CreateDirectory(folder);
                await result.Images[0].SaveAsync(path, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NanoBananaException or IOException or UnauthorizedAccessException or OperationCanceledException)
            {
                // Accepted and done, and the journal keeps the id: a re-run (with a folder it can write) collects it.
                return accepted with { Error = "the image could not be saved: " + ex.Message };
            }
        }

        var notRecorded = await RecordAsync(key, operation.Id, "completed", () => _journal.CompletedAsync(key, path, CancellationToken.None)).ConfigureAwait(false);
        return accepted with { Outcome = BatchOutcome.Completed, OutputPath = path, Result = result, ModelId = result.Model.Id, Error = notRecorded };
    }

    // A journal write about a job the service accepted. The journal is what a re-run resumes by, so a failed write is
    // tried again; one that still fails does not abandon the paid job: the run goes on with it, the job's result says
    // so with its id, and an error is logged with the id. Returns that note, or null once written.
    private async Task<string?> RecordAsync(string key, string predictionId, string what, Func<ValueTask> write)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write().ConfigureAwait(false);
                return null;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && attempt < JournalAttempts)
            {
                // The store's own time, not the batch's clock: a test's fake clock must not stall a retry of real I/O.
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                var shown = SafeText.Value(predictionId);
                Log.JournalWriteFailed(_logger, SafeText.Value(key), shown, what, attempt, SafeText.OneLine(ex.Message));
                return $"the journal could not record that prediction {shown} {what} ({ex.Message})";
            }
        }
    }

    private async Task RenewLeasesAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(_options.Lease / 3, _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!ct.IsCancellationRequested)
            {
                try
                {
                    await _journal.RenewLeasesAsync(_options.WorkerId, _options.Lease, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A missed renewal only shortens the lease; the next one tries again.
                }
            }
        }
    }

    // A refusal of the account rather than of the job: a bad or revoked key (401), payment required (402), a bad token or
    // an empty balance (403; protocol.md). A content-policy refusal is the prompt's.
    private static bool IsAccountRefusal(NanoBananaApiException ex) =>
        ex is not ContentPolicyException && ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.PaymentRequired or HttpStatusCode.Forbidden;

    // Refused before acceptance for a reason of the service's, not the job's (the rule a single job falls back by; a 429
    // is caught before this), or every model so (NoModelAcceptedException).
    private static bool IsServiceUnavailable(NanoBananaApiException ex) =>
        ex is NoModelAcceptedException || Protocol.SubmitStatus.NotAcceptedServiceSide(ex);

    // A job left unsent: its entry goes back to claimable (its reservation returned), so that a re-run sends it.
    private async Task<BatchItemResult> NotSentAsync(string key, ImageJob job, string? modelId, string why)
    {
        await _journal.ReleaseAsync(key, CancellationToken.None).ConfigureAwait(false);
        return new BatchItemResult { Key = key, Outcome = BatchOutcome.NotSent, ModelId = modelId, Size = job.Size, Error = why };
    }

    private async ValueTask PublishAsync(ChannelWriter<BatchItemResult> results, BatchItemResult result)
    {
        Update(s => result.Outcome switch
        {
            BatchOutcome.Completed => s with { Completed = s.Completed + 1 },
            BatchOutcome.AlreadyCompleted => s with { AlreadyCompleted = s.AlreadyCompleted + 1 },
            BatchOutcome.Failed => s with { Failed = s.Failed + 1 },
            _ => s with { NotDone = s.NotDone + 1 },
        });
        try
        {
            // Not the caller's cancellation: a cancelled batch still hands over what its jobs came to while the caller reads.
            await results.WriteAsync(result, _readerGone.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_readerGone.IsCancellationRequested)
        {
            // Nobody reads any more: the journal has the job's fate.
        }
    }

    private void Update(Func<BatchProgress, BatchProgress> change)
    {
        BatchProgress now;
        lock (_gate)
        {
            _state = change(_state);
            now = _state;
        }

        try
        {
            _progress?.Report(now);
        }
        catch (Exception ex)
        {
            // A bug in the caller's reporting must not end a job the service has accepted (this runs right after
            // acceptance too): logged, and the batch goes on.
            Log.BatchProgressCallbackFailed(_logger, ex);
        }
    }

    private static string? Invalid(BatchJob? job, HashSet<string> seenKeys)
    {
        if (job?.Job is null)
        {
            return "the batch contains a null job.";
        }

        if (string.IsNullOrWhiteSpace(job.Key) || job.Key.Length > MaxKeyLength)
        {
            return $"BatchJob.Key must be 1 to {MaxKeyLength} characters (got {job.Key?.Length ?? 0}).";
        }

        return seenKeys.Add(job.Key) ? null : $"BatchJob.Key '{job.Key}' appears twice in the batch; keys must be unique.";
    }

    // Keys name the output files, and Windows and macOS do not tell "Cat.png" from "cat.png": the second image would
    // replace the first, a paid job's image lost. Refused before anything is sent, naming both keys.
    private static string? SameFile(BatchJob job, Dictionary<string, string>? seenFiles)
    {
        if (seenFiles is null)
        {
            return null;
        }

        var file = OutputFileName(job.Key, job.Job.OutputFormat);
        return seenFiles.TryAdd(file, job.Key)
            ? null
            : $"BatchJob.Key '{job.Key}' would name the same output file as '{seenFiles[file]}' where file names ignore case (Windows, macOS); with an OutputDirectory, keys must differ by more than case.";
    }

    private static string OutputFileName(string key, Protocol.OutputFormat format) => FileName(key) + (format == Protocol.OutputFormat.Jpeg ? ".jpg" : ".png");

    // Ends a shared submit ticket when the submit exchange is over, however it ended.
    // Leaves the shared gate when the submit exchange ends. This runs after the service may have accepted the job, so a
    // store that fails here must not throw the accepted operation away: the ticket then counts as in flight until the
    // store prunes it as stale (ten windows), as a crashed worker's would.
    private sealed class SharedTicket(ISharedAccountGate? gate, long? ticket, ILogger logger) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (gate is null || ticket is not { } t)
            {
                return;
            }

            try
            {
                await gate.LeaveSubmitAsync(t, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.SharedGateLeaveFailed(logger, SafeText.OneLine(ex.Message));
            }
        }
    }

    private static bool IsRateLimited(NanoBananaApiException ex) =>
        ex.StatusCode == HttpStatusCode.TooManyRequests || ex.InnerException is NanoBananaApiException { StatusCode: HttpStatusCode.TooManyRequests };

    private static string Usd(decimal? value) => value is { } v ? "$" + v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none";

    // A file name from a key: one path segment, whatever the key holds.
    internal static string FileName(string key) => FileNames.Segment(key);
}
