using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// The highest position applied per source stream (a Kafka topic-partition, an input file, the
/// generator). A source delivers one stream's records in order, so an event at or below its stream's
/// mark has been applied already: it is a replay after a crash and is dropped.
/// </summary>
public sealed class SourceMarks
{
    private readonly Dictionary<SourceStream, long> _marks;

    public SourceMarks(IReadOnlyDictionary<SourceStream, long>? marks = null)
    {
        _marks = marks is null ? new Dictionary<SourceStream, long>() : new Dictionary<SourceStream, long>(marks);
    }

    /// <summary>Whether an event at this position was applied before.</summary>
    public bool IsReplay(SourcePosition position) =>
        _marks.TryGetValue(SourceStream.Of(position), out long mark) && position.Offset <= mark;

    /// <summary>Records that everything up to this position is applied.</summary>
    public void Advance(SourcePosition position)
    {
        var stream = SourceStream.Of(position);
        if (!_marks.TryGetValue(stream, out long mark) || position.Offset > mark) _marks[stream] = position.Offset;
    }

    public IReadOnlyDictionary<SourceStream, long> ToDictionary() => new Dictionary<SourceStream, long>(_marks);
}
