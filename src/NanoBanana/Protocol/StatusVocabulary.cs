using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace NanoBanana.Protocol;

/// <summary>
/// How a client reads the statuses a service sends: the SDK's own words, the spellings the user mapped onto them
/// (<see cref="ProtocolOptions.StatusAliases"/>), and which unfamiliar words it has already said it does not know.
/// </summary>
internal sealed class StatusVocabulary
{
    // The statuses an alias may name: what PredictionStatus knows.
    internal static readonly FrozenSet<string> Canonical = new[] { "created", "processing", "completed", "failed", "cancelled", "timeout", "expired" }
        .ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    // Words that plainly mean "not finished": the documented ones (GPT Proto's unified API says pending and in_progress)
    // and the usual others. Read as still running without a warning.
    private static readonly FrozenSet<string> Running = new[] { "created", "processing", "pending", "in_progress", "queued", "running", "starting", "submitted", "waiting", "in_queue", "scheduled" }
        .ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    // At most this many unfamiliar words are remembered per client: a service that sends a new one every answer gets
    // this many warnings, not one per poll.
    private const int MaxRemembered = 16;

    private readonly FrozenDictionary<string, string> _aliases;
    private readonly ConcurrentDictionary<string, bool> _said = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The SDK's words only.</summary>
    internal static StatusVocabulary Default { get; } = new(null);

    /// <param name="aliases">Other spellings mapped to the SDK's words; copied.</param>
    /// <exception cref="ArgumentException">The aliases break a rule of <see cref="Validate"/> (a protocol client built without the facade's validation).</exception>
    internal StatusVocabulary(IDictionary<string, string>? aliases)
    {
        aliases ??= new Dictionary<string, string>();
        if (Validate(aliases, "StatusAliases").ToArray() is { Length: > 0 } problems)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(aliases));
        }

        _aliases = aliases.ToFrozenDictionary(a => a.Key.Trim(), a => a.Value.Trim().ToLowerInvariant(), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The SDK's word for a status as the service sent it (trimmed, lower case): its alias's target, or itself.</summary>
    internal string Read(string status) => _aliases.TryGetValue(status, out var canonical) ? canonical : status;

    /// <summary>Whether the SDK knows what the status means (its own words and the plainly-running ones).</summary>
    internal static bool IsFamiliar(string? status) => status is not null && (Canonical.Contains(status) || Running.Contains(status));

    /// <summary>
    /// True the first time this client meets <paramref name="status"/> when it is a word the SDK does not know (so it is
    /// read as "still running" and should be said once); false otherwise.
    /// </summary>
    internal bool FirstUnfamiliar(string status) =>
        !IsFamiliar(status) && _said.Count < MaxRemembered && _said.TryAdd(status, true);

    /// <summary>The problems of a user's aliases, each naming its key under <paramref name="path"/>.</summary>
    internal static IEnumerable<string> Validate(IDictionary<string, string> aliases, string path)
    {
        var words = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (word, target) in aliases)
        {
            var key = $"{path}:{word}";
            if (string.IsNullOrWhiteSpace(word))
            {
                yield return $"{path} has an empty status; name the word the service sends.";
            }
            else if (!words.Add(word.Trim()))
            {
                yield return $"{key}: '{word.Trim()}' is given more than once (the keys differ only in surrounding spaces).";
            }
            else if (Canonical.Contains(word.Trim()))
            {
                yield return $"{key}: '{word.Trim()}' is one of the SDK's own statuses and cannot be given another meaning.";
            }
            else if (string.IsNullOrWhiteSpace(target) || !Canonical.Contains(target.Trim()))
            {
                yield return $"{key} must be one of {string.Join(", ", Canonical.Order(StringComparer.Ordinal))} (got '{target}').";
            }
        }
    }
}
