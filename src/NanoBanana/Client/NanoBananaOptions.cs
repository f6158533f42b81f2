using NanoBanana.Catalog;
using NanoBanana.Polling;

namespace NanoBanana;

/// <summary>
/// Everything the client needs to know: the protocol settings of <see cref="ProtocolOptions"/> plus the catalog,
/// polling, deadline and fallbacks. Bind from the <c>NanoBanana</c> configuration section or set in code. The client
/// takes a snapshot when it is built: later changes to this object do not reach it.
/// </summary>
public sealed class NanoBananaOptions : ProtocolOptions
{
    /// <summary>The configuration section name, <c>NanoBanana</c>.</summary>
    public const string SectionName = DefaultSettingsPath;

    /// <summary>Catalog overrides: model ids, prices, limits, latencies.</summary>
    public ModelCatalogOptions Catalog { get; private set; } = new();

    /// <summary>How to wait for predictions.</summary>
    public PollingOptions Polling { get; private set; } = new();

    /// <summary>
    /// Uploads local reference images (<see cref="ReferenceImage.FromFile"/>, <see cref="ReferenceImage.FromBytes"/>)
    /// before the submit. Null (the default): WaveSpeedAI's own upload endpoint with <see cref="ApiProvider.WaveSpeed"/>;
    /// with GPT Proto, which documents no upload, a job with a local image is refused before anything is sent. With
    /// dependency injection, an <see cref="IReferenceImageUploader"/> registered in the container is used. Not bound
    /// from configuration.
    /// </summary>
    public IReferenceImageUploader? ReferenceImageUploader { get; set; }

    /// <summary>
    /// Ask the service to answer the submit with the finished image (sync mode): one request per job. On a sync
    /// timeout the SDK polls the same id. The service gives the id only when the job ends, so a cancellation or a
    /// deadline that cuts the submit's wait short is a <see cref="SubmitOutcomeUnknownException"/> without an id
    /// (the job most likely runs on and is billed); keep it off where waits are cancelled or bounded tightly.
    /// </summary>
    public bool UseSyncMode { get; set; }

    /// <summary>
    /// How long one job may take from submit to result before <see cref="PredictionTimeoutException"/>; default 10
    /// minutes, at most <see cref="MaxDeadline"/>.
    /// </summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The longest deadline a job may have: 7 days, as long as a service is known to keep a prediction (WaveSpeedAI);
    /// waiting longer could only end in "not found".
    /// </summary>
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromDays(7);

    /// <summary>When a prediction fails for a service reason (not moderation, not bad input), try the next model of the fallback chain. Failed runs are refunded. Default true.</summary>
    public bool FallbackOnServiceError { get; set; } = true;

    /// <summary>When a submit is surely not accepted (503, or 429 after retries), try the next model of the fallback chain. Default true.</summary>
    public bool FallbackWhenNotAccepted { get; set; } = true;

    /// <summary>
    /// When a prediction completes without outputs, try the next model. Off by default: a completed run may well be
    /// billed, so moving on could pay twice for one job; the failure is reported with the prediction id instead.
    /// </summary>
    public bool FallbackOnEmptyOutput { get; set; }

    /// <summary>Checks the options and returns every problem found, naming the key.</summary>
    public override IReadOnlyList<string> Validate()
    {
        var errors = new List<string>(ValidateProtocol(SettingsPath));
        if (Provider == ApiProvider.GptProtoUnified && UseSyncMode)
        {
            errors.Add($"{SettingsPath}:UseSyncMode is not available with Provider GptProtoUnified (its images API only queues jobs); turn it off or use Provider GptProto.");
        }

        if (Deadline <= TimeSpan.Zero || Deadline > MaxDeadline)
        {
            errors.Add($"{SettingsPath}:Deadline must be positive and at most {MaxDeadline.TotalDays:0} days (got {Deadline}).");
        }

        errors.AddRange(Polling.Validate($"{SettingsPath}:Polling"));
        try
        {
            ModelCatalog.Create(Catalog);
        }
        catch (ArgumentException ex)
        {
            errors.Add($"{SettingsPath}:{ex.Message}");
        }

        return errors;
    }

    private protected override string Describe() => $"{base.Describe()}, UseSyncMode = {UseSyncMode}, Deadline = {Deadline}";

    /// <summary>
    /// A deep copy that later changes to this object do not reach (the client keeps one). The uploader is the same
    /// instance: it is a service, not a setting.
    /// </summary>
    internal NanoBananaOptions Snapshot()
    {
        var copy = (NanoBananaOptions)MemberwiseClone();
        copy.Retry = Retry.Snapshot();
        copy.Limits = Limits.Snapshot();
        copy.Catalog = Catalog.Snapshot();
        copy.Polling = Polling.Snapshot();
        copy.StatusAliases = new(StatusAliases, StringComparer.OrdinalIgnoreCase);
        return copy;
    }
}
