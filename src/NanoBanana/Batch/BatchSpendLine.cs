using NanoBanana.Catalog;

namespace NanoBanana.Batch;

/// <summary>One line of a batch's spend report: the jobs of one model and size.</summary>
/// <param name="ModelId">The model id.</param>
/// <param name="Size">The size.</param>
/// <param name="Images">Jobs accepted and not failed.</param>
/// <param name="CostUsd">Their catalog price in total.</param>
public sealed record BatchSpendLine(string ModelId, ImageSize Size, int Images, decimal CostUsd)
{
    /// <summary>The spend report of a batch's results, per model and size, most expensive first.</summary>
    public static IReadOnlyList<BatchSpendLine> Report(IEnumerable<BatchItemResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return [.. results
            .Where(r => r.Outcome is BatchOutcome.Completed or BatchOutcome.AlreadyCompleted or BatchOutcome.Pending && r.ModelId is not null)
            .GroupBy(r => (r.ModelId!, r.Size))
            .Select(g => new BatchSpendLine(g.Key.Item1, g.Key.Size, g.Count(), g.Sum(r => r.CostUsd)))
            .OrderByDescending(l => l.CostUsd).ThenBy(l => l.ModelId, StringComparer.Ordinal)];
    }
}
