using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// A partition's de-duplication ledger: which source positions it has seen. An event at or below its
/// source stream's mark is a replay (an at-least-once source re-delivered it after a crash) and is
/// dropped. Two sets of marks: <see cref="Accepted"/> moves when an event is accepted for persistence
/// (so a replay arriving while the first copy is being written is dropped too), <see cref="Applied"/>
/// when it is persisted and applied (what a snapshot may claim).
/// </summary>
public sealed class ReplayFilter
{
    private SourceMarks _accepted = new();
    private SourceMarks _applied = new();

    /// <summary>Marks of events persisted and applied.</summary>
    public SourceMarks Applied => _applied;

    /// <summary>Accepts an event for persistence; false when it is a replay.</summary>
    public bool TryAccept(SourcePosition position)
    {
        if (_accepted.IsReplay(position)) return false;
        _accepted.Advance(position);
        return true;
    }

    /// <summary>An event was persisted and applied (live, or read back during recovery).</summary>
    public void MarkApplied(SourcePosition position)
    {
        _applied.Advance(position);
        _accepted.Advance(position);
    }

    /// <summary>Starts from a snapshot's marks.</summary>
    public void Restore(IReadOnlyDictionary<SourceStream, long> marks)
    {
        _applied = new SourceMarks(marks);
        _accepted = new SourceMarks(marks);
    }
}
