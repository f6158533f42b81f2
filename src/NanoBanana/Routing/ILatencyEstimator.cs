using NanoBanana.Catalog;

namespace NanoBanana.Routing;

/// <summary>Supplies live latency estimates per model, for the Speed priority. The poller's statistics implement it.</summary>
public interface ILatencyEstimator
{
    /// <summary>The expected submit-to-completion time for the model, if enough live measurements exist.</summary>
    bool TryGetExpectedLatency(ImageModel model, out TimeSpan latency);
}
