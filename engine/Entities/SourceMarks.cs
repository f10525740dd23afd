using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// The highest position applied per source partition (e.g. per Kafka topic-partition, per input
/// file). A source delivers one partition's records in order, so an event at or below its mark has
/// been applied already: it is a replay after a crash and is dropped.
/// </summary>
public sealed class SourceMarks
{
    private readonly Dictionary<string, long> _marks;

    public SourceMarks(IReadOnlyDictionary<string, long>? marks = null)
    {
        _marks = marks is null ? new Dictionary<string, long>(StringComparer.Ordinal) : new Dictionary<string, long>(marks, StringComparer.Ordinal);
    }

    public static string KeyOf(SourcePosition position) => position.Partition == 0 ? position.Source : $"{position.Source}#{position.Partition}";

    /// <summary>Whether an event at this position was applied before.</summary>
    public bool IsReplay(SourcePosition position) =>
        _marks.TryGetValue(KeyOf(position), out long mark) && position.Offset <= mark;

    /// <summary>Records that everything up to this position is applied.</summary>
    public void Advance(SourcePosition position)
    {
        string key = KeyOf(position);
        if (!_marks.TryGetValue(key, out long mark) || position.Offset > mark) _marks[key] = position.Offset;
    }

    public IReadOnlyDictionary<string, long> ToDictionary() => new Dictionary<string, long>(_marks, StringComparer.Ordinal);
}
