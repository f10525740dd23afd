namespace StreamDetect.Models.Vocabulary;

/// <summary>
/// The event-type vocabulary a sequence model was trained with: type strings to dense tokens.
/// Token 0 is padding, token 1 is <c>&lt;unk&gt;</c>, which every type unseen in training (or seen
/// fewer than the minimum count) maps to. Models never see <c>&lt;unk&gt;</c> as a training target,
/// so they give it a near-zero probability and an unseen type scores as highly unexpected.
/// Learned types are ordered by descending frequency, then by name, so the same data gives the same tokens.
/// A learned vocabulary always holds the session end token <c>&lt;end&gt;</c> (<see cref="Events.EventTypes.SessionEnd"/>),
/// which the models learn to predict where training sessions end; vocabularies of older model files may lack it.
/// </summary>
public sealed class EventVocabulary
{
    public const int PadToken = 0;
    public const int UnknownToken = 1;
    public const string PadName = "<pad>";
    public const string UnknownName = "<unk>";

    private readonly string[] _types;
    private readonly Dictionary<string, int> _tokens;

    private EventVocabulary(string[] types)
    {
        _types = types;
        _tokens = new Dictionary<string, int>(types.Length, StringComparer.Ordinal);
        for (int i = 2; i < types.Length; i++) _tokens[types[i]] = i;
    }

    /// <summary>Number of tokens, padding and <c>&lt;unk&gt;</c> included.</summary>
    public int Count => _types.Length;

    /// <summary>The learned type names (without padding and <c>&lt;unk&gt;</c>), in token order.</summary>
    public IReadOnlyList<string> Types => _types[2..];

    /// <summary>The token of the session end marker, or <see cref="UnknownToken"/> for a vocabulary without it.</summary>
    public int EndToken => TokenOf(Events.EventTypes.SessionEnd);

    /// <summary>Whether the vocabulary holds the session end token (every vocabulary learned by this build does).</summary>
    public bool HasEndToken => EndToken != UnknownToken;

    /// <summary>Learns the vocabulary from the event types of the training data.</summary>
    /// <param name="types">Every training event's type (duplicates expected).</param>
    /// <param name="minCount">Types seen fewer times stay <c>&lt;unk&gt;</c>.</param>
    public static EventVocabulary Learn(IEnumerable<string> types, int minCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string type in types) counts[type] = counts.GetValueOrDefault(type) + 1;
        var learned = counts
            .Where(p => p.Value >= minCount && p.Key is not (PadName or UnknownName))
            .OrderByDescending(p => p.Value)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key)
            .ToList();
        // The end token is always there, seen or not, so a stream's end markers never map to <unk>.
        if (!learned.Contains(Events.EventTypes.SessionEnd)) learned.Add(Events.EventTypes.SessionEnd);
        return new EventVocabulary([PadName, UnknownName, .. learned]);
    }

    /// <summary>The token of a type; <see cref="UnknownToken"/> for a type not in the vocabulary.</summary>
    public int TokenOf(string type) => _tokens.TryGetValue(type, out int token) ? token : UnknownToken;

    /// <summary>The name of a token (<c>&lt;pad&gt;</c> and <c>&lt;unk&gt;</c> included).</summary>
    public string NameOf(int token) => (uint)token < (uint)_types.Length ? _types[token] : UnknownName;

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(_types.Length - 2);
        for (int i = 2; i < _types.Length; i++) writer.Write(_types[i]);
    }

    public static EventVocabulary ReadFrom(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > 1 << 20) throw new InvalidDataException($"vocabulary of {count} types is not plausible");
        var types = new string[count + 2];
        types[PadToken] = PadName;
        types[UnknownToken] = UnknownName;
        for (int i = 0; i < count; i++) types[i + 2] = string.Intern(reader.ReadString());
        if (types.Skip(2).Distinct(StringComparer.Ordinal).Count() != count)
            throw new InvalidDataException("vocabulary lists a type twice");
        return new EventVocabulary(types);
    }
}
