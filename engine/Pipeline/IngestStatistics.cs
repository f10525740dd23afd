using StreamDetect.Models.Events;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Counts what entered the engine: valid events, events per type, distinct users, and the users that
/// carry a ground-truth label of 1 (anomalous). Updated from one stream stage at a time; read after
/// the stream completes (the counters may also be read for progress while it runs).
/// </summary>
public sealed class IngestStatistics
{
    private readonly Dictionary<string, long> _perType = new(StringComparer.Ordinal);
    private readonly HashSet<string> _users = new(StringComparer.Ordinal);
    private readonly HashSet<string> _labelledAnomalous = new(StringComparer.Ordinal);
    private long _events;
    private long _labelled;

    public long Events => Interlocked.Read(ref _events);

    public int Users => _users.Count;

    /// <summary>Events that carried a label (0 or 1).</summary>
    public long LabelledEvents => _labelled;

    public IReadOnlyDictionary<string, long> PerType => _perType;

    /// <summary>Users with at least one event labelled 1.</summary>
    public IReadOnlyCollection<string> LabelledAnomalousUsers => _labelledAnomalous;

    public void Add(UserEvent e)
    {
        Interlocked.Increment(ref _events);
        _perType[e.Type] = _perType.GetValueOrDefault(e.Type) + 1;
        _users.Add(e.UserId);
        if (e.Label is int label)
        {
            _labelled++;
            if (label == 1) _labelledAnomalous.Add(e.UserId);
        }
    }
}
