using Microsoft.Extensions.Logging;

namespace NanoBanana.Diagnostics;

// Source-generated log methods. Prompts appear only at Trace; the API key never appears anywhere.
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Routed to {Model} ({Tier}), estimated ${Cost} per image; fallbacks: {Fallbacks}. {Reason}")]
    public static partial void Routed(ILogger logger, string model, string tier, decimal cost, string fallbacks, string reason);

    [LoggerMessage(2, LogLevel.Information, "Submitted prediction {PredictionId} to {Model} (attempt {Attempt}, sync {Sync})")]
    public static partial void Submitted(ILogger logger, string predictionId, string model, int attempt, bool sync);

    [LoggerMessage(3, LogLevel.Debug, "Poll {PollCount} of prediction {PredictionId}: {Status} after {ElapsedMs:0} ms")]
    public static partial void Polled(ILogger logger, string predictionId, int pollCount, string status, double elapsedMs);

    [LoggerMessage(4, LogLevel.Information, "Prediction {PredictionId} on {Model} completed in {ElapsedMs:0} ms after {PollCount} polls")]
    public static partial void Completed(ILogger logger, string predictionId, string model, double elapsedMs, int pollCount);

    [LoggerMessage(5, LogLevel.Warning, "Prediction {PredictionId} on {Model} failed: {Error} (code {ErrorCode})")]
    public static partial void PredictionFailed(ILogger logger, string predictionId, string model, string? error, int? errorCode);

    [LoggerMessage(6, LogLevel.Warning, "Falling back from {FromModel} to {ToModel}: {Reason}")]
    public static partial void FallingBack(ILogger logger, string fromModel, string toModel, string reason);

    [LoggerMessage(7, LogLevel.Trace, "Prompt: {Prompt}")]
    public static partial void Prompt(ILogger logger, string prompt);

    [LoggerMessage(8, LogLevel.Warning, "Poll of {PredictionId} failed ({Error}); retrying on schedule")]
    public static partial void PollRetry(ILogger logger, string predictionId, string error);

    [LoggerMessage(9, LogLevel.Warning, "The service's poll URL for {PredictionId} is on host {Host}, not the configured API host; polling by id instead")]
    public static partial void ForeignPollUrl(ILogger logger, string predictionId, string host);

    [LoggerMessage(10, LogLevel.Information, "Sync mode timed out for {PredictionId}; polling the same id (not resubmitting)")]
    public static partial void SyncTimeout(ILogger logger, string predictionId);

    [LoggerMessage(11, LogLevel.Warning, "Prediction {PredictionId} passed its deadline of {Deadline}; it may still finish, resume with its id")]
    public static partial void DeadlineExceeded(ILogger logger, string predictionId, TimeSpan deadline);

    [LoggerMessage(12, LogLevel.Warning, "Submit to {Model} not accepted: {Error}")]
    public static partial void NotAccepted(ILogger logger, string model, string error);

    [LoggerMessage(13, LogLevel.Warning, "Prediction {PredictionId} on {Model} completed but its output is unavailable: {Error}")]
    public static partial void OutputUnavailable(ILogger logger, string predictionId, string model, string error);

    [LoggerMessage(14, LogLevel.Warning, "Waiting for prediction {PredictionId} on {Model} was cancelled; it runs on and can be resumed by id")]
    public static partial void WaitCanceled(ILogger logger, string predictionId, string model);

    [LoggerMessage(15, LogLevel.Warning, "The provider does not know model id {Model} ({Error}); sending the job once more as its successor {Successor}, and using the successor for this tier from now on")]
    public static partial void MovedToSuccessor(ILogger logger, string model, string successor, string error);

    [LoggerMessage(16, LogLevel.Warning, "Model id {Model} is past its announced retirement (or earliest shutdown) date {RetirementDate}; {Successor}. It is sent while the provider accepts it; set {Setting} to move on")]
    public static partial void PastRetirement(ILogger logger, string model, string retirementDate, string successor, string setting);

    [LoggerMessage(17, LogLevel.Information, "Uploaded reference image {FileName} ({Bytes} bytes) to {Url}")]
    public static partial void Uploaded(ILogger logger, string fileName, long bytes, string url);

    [LoggerMessage(18, LogLevel.Warning, "Transport retry {Attempt} of {Request} in {DelayMs:0} ms after {Outcome}")]
    public static partial void TransportRetry(ILogger logger, string request, int attempt, double delayMs, string outcome);

    [LoggerMessage(19, LogLevel.Warning, "Transport {Event} on {Request} ({Outcome})")]
    public static partial void TransportEvent(ILogger logger, string @event, string request, string outcome);

    [LoggerMessage(20, LogLevel.Information, "Loaded {Waits} completion times of {Models} models from {Path} (saved {SavedAt:u})")]
    public static partial void CompletionTimesLoaded(ILogger logger, int waits, int models, string path, DateTimeOffset savedAt);

    [LoggerMessage(21, LogLevel.Information, "Completion times in {Path} were learned from {FileService}, not {Service}; starting from the catalog (the file is replaced on the next save)")]
    public static partial void CompletionTimesOtherService(ILogger logger, string path, string fileService, string service);

    [LoggerMessage(22, LogLevel.Warning, "Completion times in {Path} not used: {Error}; starting from the catalog (the file is replaced on the next save)")]
    public static partial void CompletionTimesUnreadable(ILogger logger, string path, string error);

    [LoggerMessage(23, LogLevel.Warning, "Completion times not saved to {Path}: {Error}")]
    public static partial void CompletionTimesNotSaved(ILogger logger, string path, string error);

    [LoggerMessage(24, LogLevel.Warning, "The executionTime {ReportedMs:0} ms that the service reported for prediction {PredictionId} on {Model} is earlier than its \"still running\" answer at {RunningMs:0} ms; this model's reported execution times are not used from now on (completion times are learned from the poll answers alone)")]
    public static partial void ExecutionTimeRefuted(ILogger logger, string model, double reportedMs, double runningMs, string predictionId);

    [LoggerMessage(25, LogLevel.Error, "Batch job {Key}: the journal could not record that prediction {PredictionId} {What} after {Attempts} attempts ({Error}). The job was accepted and may be billed; the run goes on with it, and this id is in the job's result. A re-run finds the journal's older state: keep this id (resume collects it)")]
    public static partial void JournalWriteFailed(ILogger logger, string key, string predictionId, string what, int attempts, string error);

    [LoggerMessage(26, LogLevel.Warning, "The progress callback threw on prediction {PredictionId} ({Status}); the wait goes on")]
    public static partial void ProgressCallbackFailed(ILogger logger, string predictionId, string status, Exception exception);

    [LoggerMessage(27, LogLevel.Warning, "The batch progress callback threw; the batch goes on")]
    public static partial void BatchProgressCallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(28, LogLevel.Warning, "The shared account gate could not record the end of a submit ({Error}); it counts as in flight until the store prunes it as stale")]
    public static partial void SharedGateLeaveFailed(ILogger logger, string error);

    [LoggerMessage(29, LogLevel.Warning, "A poll answer for prediction {PredictionId} names another prediction, {AnsweredId}; it is read as the answer about {PredictionId}, the id polled. If this repeats, something between the SDK and the service may be mixing up answers")]
    public static partial void PollAnswerNamesOtherId(ILogger logger, string predictionId, string answeredId);

    [LoggerMessage(30, LogLevel.Warning, "Model {Model} is not in the catalog (which has {Known}); the prediction is waited on all the same, its polls timed over every latency the catalog knows. A catalog changed since the job was accepted leaves such ids behind")]
    public static partial void UnknownModelResumed(ILogger logger, string model, string known);

    [LoggerMessage(31, LogLevel.Warning, "The answer to the submit of prediction {PredictionId} on {Model} broke off ({Problem}) after naming the prediction; the job was accepted and is followed by that id, not submitted again")]
    public static partial void AcceptedInPart(ILogger logger, string predictionId, string model, string problem);

    // The example of an alias, in the log line below and in the hint the timeout gives.
    private const string AliasExample = " (for example \"succeeded\": \"completed\")";

    /// <summary>How to teach a client a status word, naming its settings' section (<c>NanoBanana:StatusAliases</c> by default).</summary>
    internal static string StatusAliasHint(string setting) => "map it under " + setting + AliasExample;

    [LoggerMessage(32, LogLevel.Warning, "Prediction {PredictionId} on {Model} has the status '{Status}', which the SDK does not know; it is read as still running, so a wait on it ends at its deadline. If the service means finished by it, map it under {AliasSetting}" + AliasExample + " and resume the prediction by id. Said once per client for each such status")]
    public static partial void UnfamiliarStatus(ILogger logger, string predictionId, string model, string status, string aliasSetting);

    [LoggerMessage(33, LogLevel.Warning, "Prediction {PredictionId} on {Model} completed with {Unread} output(s) in a shape the SDK does not read ({Shape}) besides the {Read} it read; the result holds those {Read}. Please report the shape")]
    public static partial void OutputsUnread(ILogger logger, string predictionId, string model, int unread, string? shape, int read);

    [LoggerMessage(34, LogLevel.Information, "HttpClient '{HttpClient}' leaves out {Handlers}, added for every HttpClient of the app (ConfigureHttpClientDefaults): a generic retry could send a billable submit twice, and its timeouts would cut sync-mode waits short. The SDK's own handler retries what is safe to repeat. To have one anyway, add it to this client (builder.HttpClient); a submit is still never sent twice")]
    public static partial void AppWideResilienceLeftOut(ILogger logger, string httpClient, string handlers);

    [LoggerMessage(35, LogLevel.Information, "Prediction {PredictionId} on {Model} was reported completed without outputs; asking again in {DelayMs} ms (recheck {Recheck} of at most {Rechecks}), since a relay may mark a job done before it lists the outputs")]
    public static partial void RecheckingOutputs(ILogger logger, string predictionId, string model, double delayMs, int recheck, int rechecks);

    [LoggerMessage(36, LogLevel.Warning, "Recheck {Recheck} of prediction {PredictionId}, reported completed without outputs, failed ({Error}); the wait ends on the completion without outputs")]
    public static partial void RecheckFailed(ILogger logger, int recheck, string predictionId, string error);

    [LoggerMessage(37, LogLevel.Information, "The API key in {Setting} changed with the configuration; requests from now on carry the new key")]
    public static partial void ApiKeyChanged(ILogger logger, string setting);

    [LoggerMessage(38, LogLevel.Warning, "The API key in {Setting} changed with the configuration, to one the client cannot send ({Problem}); the client keeps its key")]
    public static partial void ApiKeyChangeRefused(ILogger logger, string setting, string problem);

    [LoggerMessage(39, LogLevel.Warning, "The service refused the account ({StatusCode}) at the submit of job {Key}: the batch sends no more jobs, since each would be refused the same way. Accepted jobs are still collected; the jobs not sent stay unsent in the journal, and a re-run with a working key or balance sends them")]
    public static partial void BatchAccountRefused(ILogger logger, int statusCode, string key);
}
