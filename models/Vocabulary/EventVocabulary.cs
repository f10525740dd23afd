namespace StreamDetect.Models.Vocabulary;

/// <summary>
/// The event-type vocabulary a sequence model was trained with: type strings to dense tokens.
/// Token 0 is padding, token 1 is <c>&lt;unk&gt;</c>, which every type unseen in training (or seen
/// fewer than the minimum count) maps to. Models never see <c>&lt;unk&gt;</c> as a training target,
/// so they give it a near-zero probability and an unseen type scores as highly unexpected.
/// Learned types are ordered by descending frequency, then by name, so the same data gives the same tokens.
/// A learned vocabulary always holds the session end token <c>&lt;end&gt;</c> (<see cref="Events.EventTypes.SessionEnd"/>),
/// which the models learn to predict where training sessions end; vocabularies of older model files may lack it.
/// <para>
/// After the learned types come <see cref="ReservedSlots"/> reserved tokens (the models' embedding and output layers
/// have their rows from training on): online fine-tuning assigns a type that appeared after training to the first
/// free slot (<see cref="WithAssigned"/>), so a model can learn it without a new architecture. Until then the type
/// maps to <c>&lt;unk&gt;</c>, and a free slot names itself <c>&lt;free&gt;</c>. An assigned slot is never reassigned.
/// Vocabularies of model files older than the slots have none.
/// </para>
/// </summary>
public sealed class EventVocabulary
{
    public const int PadToken = 0;
    public const int UnknownToken = 1;
    public const string PadName = "<pad>";
    public const string UnknownName = "<unk>";
    public const string FreeSlotName = "<free>";

    /// <summary>The most reserved slots a vocabulary may have.</summary>
    public const int MaxReservedSlots = 1024;

    /// <summary>Every token's name; null for a free reserved slot.</summary>
    private readonly string?[] _types;
    private readonly Dictionary<string, int> _tokens;

    private EventVocabulary(string?[] types, int reservedSlots)
    {
        _types = types;
        ReservedSlots = reservedSlots;
        _tokens = new Dictionary<string, int>(types.Length, StringComparer.Ordinal);
        for (int i = 2; i < types.Length; i++)
            if (types[i] is { } type) _tokens[type] = i;
    }

    /// <summary>Number of tokens, padding, <c>&lt;unk&gt;</c> and reserved slots (free or assigned) included.</summary>
    public int Count => _types.Length;

    /// <summary>The type names (without padding and <c>&lt;unk&gt;</c>): the learned ones, then those assigned to reserved
    /// slots, in token order.</summary>
    public IReadOnlyList<string> Types => [.. _types.Skip(2).OfType<string>()];

    /// <summary>Tokens reserved for types assigned after training (the last <see cref="ReservedSlots"/> tokens).</summary>
    public int ReservedSlots { get; }

    /// <summary>The first reserved token (= <see cref="Count"/> when there are no slots).</summary>
    public int FirstSlotToken => _types.Length - ReservedSlots;

    /// <summary>The types assigned to reserved slots, in slot order.</summary>
    public IReadOnlyList<string> AssignedTypes => [.. _types.Skip(FirstSlotToken).OfType<string>()];

    /// <summary>Reserved slots no type is assigned to yet.</summary>
    public int FreeSlots => ReservedSlots - AssignedTypes.Count;

    /// <summary>Tokens a model may predict: every token before the first free slot (slots are assigned in order).</summary>
    public int ActiveCount => Count - FreeSlots;

    /// <summary>The token of the session end marker, or <see cref="UnknownToken"/> for a vocabulary without it.</summary>
    public int EndToken => TokenOf(Events.EventTypes.SessionEnd);

    /// <summary>Whether the vocabulary holds the session end token (every vocabulary learned by this build does).</summary>
    public bool HasEndToken => EndToken != UnknownToken;

    /// <summary>Learns the vocabulary from the event types of the training data.</summary>
    /// <param name="types">Every training event's type (duplicates expected).</param>
    /// <param name="minCount">Types seen fewer times stay <c>&lt;unk&gt;</c>.</param>
    /// <param name="reservedSlots">Free slots after the learned types, for types assigned after training.</param>
    public static EventVocabulary Learn(IEnumerable<string> types, int minCount = 1, int reservedSlots = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(reservedSlots);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(reservedSlots, MaxReservedSlots);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string type in types) counts[type] = counts.GetValueOrDefault(type) + 1;
        var learned = counts
            .Where(p => p.Value >= minCount && !IsSpecial(p.Key))
            .OrderByDescending(p => p.Value)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key)
            .ToList();
        // The end token is always there, seen or not, so a stream's end markers never map to <unk>.
        if (!learned.Contains(Events.EventTypes.SessionEnd)) learned.Add(Events.EventTypes.SessionEnd);
        return new EventVocabulary([PadName, UnknownName, .. learned, .. new string?[reservedSlots]], reservedSlots);
    }

    /// <summary>Whether a name is one of the vocabulary's own (padding, <c>&lt;unk&gt;</c>, a free slot): never a type to learn.</summary>
    public static bool IsSpecial(string type) => type is PadName or UnknownName or FreeSlotName;

    /// <summary>
    /// This vocabulary with <paramref name="types"/> assigned to its first free slots, in the order given (the tokens
    /// of every type already known stay as they are). Refuses a type already known or special, a duplicate, and more
    /// types than free slots.
    /// </summary>
    public EventVocabulary WithAssigned(IReadOnlyList<string> types)
    {
        if (types.Count > FreeSlots)
            throw new ArgumentException($"{types.Count} types to assign, {FreeSlots} free slots of {ReservedSlots}", nameof(types));
        var grown = (string?[])_types.Clone();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int slot = FirstSlotToken;
        foreach (string type in types)
        {
            if (IsSpecial(type) || _tokens.ContainsKey(type) || !seen.Add(type))
                throw new ArgumentException($"type '{type}' is already in the vocabulary or is not a type", nameof(types));
            while (grown[slot] is not null) slot++;
            grown[slot] = type;
        }
        return new EventVocabulary(grown, ReservedSlots);
    }

    /// <summary>The token of a type; <see cref="UnknownToken"/> for a type not in the vocabulary.</summary>
    public int TokenOf(string type) => _tokens.TryGetValue(type, out int token) ? token : UnknownToken;

    /// <summary>The name of a token (<c>&lt;pad&gt;</c>, <c>&lt;unk&gt;</c> and <c>&lt;free&gt;</c> included).</summary>
    public string NameOf(int token) => (uint)token < (uint)_types.Length ? _types[token] ?? FreeSlotName : UnknownName;

    /// <summary>Writes the learned types (the format of files older than the reserved slots; the slots follow in
    /// <see cref="WriteSlotsTo"/>).</summary>
    public void WriteTo(BinaryWriter writer)
    {
        int learned = FirstSlotToken - 2;
        writer.Write(learned);
        for (int i = 2; i < FirstSlotToken; i++) writer.Write(_types[i]!);
    }

    /// <summary>Writes the reserved slots: their number, then each slot's type ("" when free).</summary>
    public void WriteSlotsTo(BinaryWriter writer)
    {
        writer.Write(ReservedSlots);
        for (int i = FirstSlotToken; i < _types.Length; i++) writer.Write(_types[i] ?? "");
    }

    public static EventVocabulary ReadFrom(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > 1 << 20) throw new InvalidDataException($"vocabulary of {count} types is not plausible");
        var types = new string?[count + 2];
        types[PadToken] = PadName;
        types[UnknownToken] = UnknownName;
        for (int i = 0; i < count; i++) types[i + 2] = string.Intern(reader.ReadString());
        if (types.Skip(2).Distinct(StringComparer.Ordinal).Count() != count)
            throw new InvalidDataException("vocabulary lists a type twice");
        return new EventVocabulary(types, 0);
    }

    /// <summary>This vocabulary (read by <see cref="ReadFrom"/>, without slots) with the reserved slots written by
    /// <see cref="WriteSlotsTo"/>.</summary>
    public EventVocabulary ReadSlotsFrom(BinaryReader reader)
    {
        if (ReservedSlots != 0) throw new InvalidOperationException("the vocabulary already has its reserved slots");
        int slots = reader.ReadInt32();
        if (slots < 0 || slots > MaxReservedSlots) throw new InvalidDataException($"vocabulary with {slots} reserved slots is not plausible (at most {MaxReservedSlots})");
        var types = new string?[_types.Length + slots];
        _types.CopyTo(types, 0);
        for (int i = 0; i < slots; i++)
        {
            string type = reader.ReadString();
            if (type.Length == 0) continue;
            if (IsSpecial(type)) throw new InvalidDataException($"reserved slot {i} holds '{type}', which is not a type");
            types[_types.Length + i] = string.Intern(type);
        }
        var named = types.Skip(2).OfType<string>().ToArray();
        if (named.Distinct(StringComparer.Ordinal).Count() != named.Length)
            throw new InvalidDataException("vocabulary lists a type twice");
        bool seenFree = false;
        for (int i = _types.Length; i < types.Length; i++)
        {
            if (types[i] is null) seenFree = true;
            else if (seenFree) throw new InvalidDataException("vocabulary has an assigned slot after a free one");
        }
        return new EventVocabulary(types, slots);
    }
}
