using StreamDetect.Models.Features;

namespace StreamDetect.Models.Vocabulary;

/// <summary>
/// Turns window entries into <see cref="EventToken"/>s: the type through the learned
/// <see cref="EventVocabulary"/>, the gap to the previous entry through <see cref="TimeGapBuckets"/>,
/// the amount through the learned <see cref="AmountBuckets"/>, and the <see cref="ItemRelation"/> to
/// the previous entry. A token depends only on its entry and the one before it in the same window,
/// so training (which replays users through <see cref="UserBehaviorState"/>) and streaming agree.
/// </summary>
public sealed class EventTokenizer
{
    /// <summary>Fields per token (type, gap, amount, item).</summary>
    public const int Fields = 4;

    /// <summary>Types listed in <see cref="SessionEndsAfter"/> at most.</summary>
    public const int SessionEndsAfterTop = 3;

    public EventTokenizer(EventVocabulary vocabulary, AmountBuckets amounts, IReadOnlyList<string>? sessionEndsAfter = null)
    {
        Vocabulary = vocabulary;
        Amounts = amounts;
        SessionEndsAfter = sessionEndsAfter ?? [];
    }

    /// <summary>The event types after which training sessions ended most often (most frequent first; empty when the
    /// training data had no session end markers): what explanations of an unexpected end call normal.</summary>
    public IReadOnlyList<string> SessionEndsAfter { get; }

    public EventVocabulary Vocabulary { get; }

    public AmountBuckets Amounts { get; }

    /// <summary>Sizes of the four fields' value ranges, in field order.</summary>
    public int[] FieldSizes => [Vocabulary.Count, TimeGapBuckets.Count, Amounts.Count, ItemRelation.Count];

    /// <summary>Learns the vocabulary and amount buckets from training windows' entries.</summary>
    /// <param name="reservedTypes">Reserved type slots after the learned types (see <see cref="EventVocabulary"/>).</param>
    public static EventTokenizer Learn(IEnumerable<IReadOnlyList<WindowEntry>> sequences, int minTypeCount = 1, int amountBuckets = 8, int reservedTypes = 0)
    {
        var types = new List<string>();
        var amounts = new List<float>();
        var endsAfter = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var sequence in sequences)
        {
            string? previous = null;
            foreach (var entry in sequence)
            {
                types.Add(entry.Type);
                if (entry.HasAmount) amounts.Add(entry.Amount);
                if (Sessions.SessionRule.IsEndMarker(entry) && previous is not null
                    && !string.Equals(previous, Events.EventTypes.SessionEnd, StringComparison.Ordinal))
                    endsAfter[previous] = endsAfter.GetValueOrDefault(previous) + 1;
                previous = entry.Type;
            }
        }
        var vocabulary = EventVocabulary.Learn(types, minTypeCount, reservedTypes);
        string[] endTypes = [.. endsAfter
            .Where(p => vocabulary.TokenOf(p.Key) != EventVocabulary.UnknownToken)
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(SessionEndsAfterTop).Select(p => p.Key)];
        return new EventTokenizer(vocabulary, AmountBuckets.Learn(amounts, amountBuckets), endTypes);
    }

    /// <summary>Tokenizes entry <paramref name="index"/> of a window.</summary>
    /// <param name="window">Entries oldest first.</param>
    /// <param name="index">The entry to tokenize.</param>
    /// <param name="startsAtUserStart">Whether <c>window[0]</c> is the user's first event ever (otherwise its
    /// predecessor is unknown).</param>
    public EventToken Tokenize(ReadOnlySpan<WindowEntry> window, int index, bool startsAtUserStart)
    {
        var entry = window[index];
        int type = Vocabulary.TokenOf(entry.Type);
        int amount = Amounts.Of(entry.Amount);
        if (index == 0)
        {
            int gap = startsAtUserStart ? TimeGapBuckets.FirstEvent : TimeGapBuckets.UnknownPrevious;
            return new EventToken(type, gap, amount, entry.ItemHash == 0 ? ItemRelation.NoItem : ItemRelation.NoPrevious);
        }
        var previous = window[index - 1];
        int item = entry.ItemHash == 0 ? ItemRelation.NoItem
            : entry.ItemHash == previous.ItemHash ? ItemRelation.SameItem
            : entry.CategoryHash != 0 && entry.CategoryHash == previous.CategoryHash ? ItemRelation.SameCategory
            : ItemRelation.Different;
        return new EventToken(type, TimeGapBuckets.Of(entry.TimestampMs - previous.TimestampMs), amount, item);
    }

    /// <summary>Writes token fields as offsets into one shared embedding table (see <see cref="FieldOffsets"/>).</summary>
    public void WriteOffsetFields(in EventToken token, Span<long> destination)
    {
        var offsets = FieldOffsets;
        destination[0] = token.Type;
        destination[1] = offsets[1] + token.Gap;
        destination[2] = offsets[2] + token.Amount;
        destination[3] = offsets[3] + token.Item;
    }

    /// <summary>Where each field's values start in one embedding table holding all four fields.</summary>
    public int[] FieldOffsets => _offsets ??= ComputeOffsets();

    /// <summary>Rows of the shared embedding table.</summary>
    public int EmbeddingRows => FieldSizes.Sum();

    private int[]? _offsets;

    private int[] ComputeOffsets()
    {
        var sizes = FieldSizes;
        return [0, sizes[0], sizes[0] + sizes[1], sizes[0] + sizes[1] + sizes[2]];
    }

    /// <summary>This tokenizer with another vocabulary of the same size (the same one with types assigned to reserved
    /// slots): the same token of every type known before, so a model's layers fit it unchanged.</summary>
    public EventTokenizer WithVocabulary(EventVocabulary vocabulary)
    {
        if (vocabulary.Count != Vocabulary.Count || vocabulary.ReservedSlots != Vocabulary.ReservedSlots)
            throw new ArgumentException($"a vocabulary of {vocabulary.Count} tokens ({vocabulary.ReservedSlots} reserved) does not fit a model of {Vocabulary.Count} ({Vocabulary.ReservedSlots} reserved)", nameof(vocabulary));
        return new EventTokenizer(vocabulary, Amounts, SessionEndsAfter);
    }

    /// <summary>Writes the vocabulary's learned types, the amount buckets, the session-ending types and, when the
    /// vocabulary has reserved slots, the slots (a vocabulary without slots is written as files older than them were).</summary>
    public void WriteTo(BinaryWriter writer)
    {
        Vocabulary.WriteTo(writer);
        Amounts.WriteTo(writer);
        writer.Write(SessionEndsAfter.Count);
        foreach (string type in SessionEndsAfter) writer.Write(type);
        if (Vocabulary.ReservedSlots > 0) Vocabulary.WriteSlotsTo(writer);
    }

    /// <summary>Reads a tokenizer written by <see cref="WriteTo"/>; one of an older file, which ends after the amount
    /// buckets, has no <see cref="SessionEndsAfter"/>, and one that ends after those has no reserved slots.</summary>
    public static EventTokenizer ReadFrom(BinaryReader reader)
    {
        var vocabulary = EventVocabulary.ReadFrom(reader);
        var amounts = AmountBuckets.ReadFrom(reader);
        var stream = reader.BaseStream;
        if (stream.CanSeek && stream.Position >= stream.Length) return new EventTokenizer(vocabulary, amounts);
        int count = reader.ReadInt32();
        if (count < 0 || count > SessionEndsAfterTop) throw new InvalidDataException($"tokenizer lists {count} session-ending types (at most {SessionEndsAfterTop})");
        var endsAfter = new string[count];
        for (int i = 0; i < count; i++) endsAfter[i] = reader.ReadString();
        if (stream.CanSeek && stream.Position < stream.Length) vocabulary = vocabulary.ReadSlotsFrom(reader);
        return new EventTokenizer(vocabulary, amounts, endsAfter);
    }
}
