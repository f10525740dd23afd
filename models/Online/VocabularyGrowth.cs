using System.Text.Json.Serialization;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Online;

/// <summary>
/// Which new event types one fine-tuning round assigns to the champion's reserved vocabulary slots. A type is new when
/// the champion maps it to &lt;unk&gt;; it is eligible when the round's samples hold it at least
/// <see cref="OnlineLearningOptions.NewTypeMinCount"/> times from at least <see cref="OnlineLearningOptions.NewTypeMinUsers"/>
/// distinct users (so that one actor cannot plant a type). Eligible types take the free slots most frequent first, then
/// by name (ordinal), so the same samples give the same tokens; those left over when the slots are full stay
/// &lt;unk&gt; and are listed in <see cref="SlotsFull"/>.
/// </summary>
public sealed record VocabularyGrowth
{
    /// <summary>Types assigned a slot by this round, in slot order.</summary>
    public required IReadOnlyList<string> Assigned { get; init; }

    /// <summary>Eligible types left &lt;unk&gt; because no slot was free (most frequent first).</summary>
    public required IReadOnlyList<string> SlotsFull { get; init; }

    /// <summary>New types seen too rarely or from too few users to be assigned (they stay &lt;unk&gt;).</summary>
    public required IReadOnlyList<string> BelowMinimum { get; init; }

    /// <summary>Free slots after this round.</summary>
    public required int FreeSlots { get; init; }

    /// <summary>The plan for <paramref name="vocabulary"/> (the champion's) and the round's samples.</summary>
    public static VocabularyGrowth Plan(EventVocabulary vocabulary, IReadOnlyList<OnlineSample> samples, int minCount, int minUsers)
    {
        var counts = new Dictionary<string, (long Count, HashSet<string> Users)>(StringComparer.Ordinal);
        foreach (var sample in samples)
            foreach (var entry in sample.Events.Entries)
            {
                if (vocabulary.TokenOf(entry.Type) != EventVocabulary.UnknownToken || EventVocabulary.IsSpecial(entry.Type)) continue;
                if (!counts.TryGetValue(entry.Type, out var seen)) seen = (0, new HashSet<string>(StringComparer.Ordinal));
                seen.Users.Add(sample.UserId);
                counts[entry.Type] = (seen.Count + 1, seen.Users);
            }
        var ordered = counts.OrderByDescending(p => p.Value.Count).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        var eligible = ordered.Where(p => p.Value.Count >= minCount && p.Value.Users.Count >= minUsers).Select(p => p.Key).ToList();
        var assigned = eligible.Take(vocabulary.FreeSlots).ToList();
        return new VocabularyGrowth
        {
            Assigned = assigned,
            SlotsFull = eligible.Skip(assigned.Count).ToList(),
            BelowMinimum = ordered.Select(p => p.Key).Except(eligible, StringComparer.Ordinal).ToList(),
            FreeSlots = vocabulary.FreeSlots - assigned.Count,
        };
    }

    /// <summary>Nothing assigned, nothing new (a champion without reserved slots and samples without new types).</summary>
    [JsonIgnore]
    public bool IsEmpty => Assigned.Count == 0 && SlotsFull.Count == 0 && BelowMinimum.Count == 0;
}
