using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Engine.Pipeline;

/// <summary>Totals over the partitions' replies: what was persisted, what was a replay.</summary>
public sealed class RoutingStatistics
{
    private long _accepted, _duplicates, _rows, _requests, _newUsers, _snapshots, _sessionsClosed;

    public long Accepted => Interlocked.Read(ref _accepted);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Rows => Interlocked.Read(ref _rows);
    public long Requests => Interlocked.Read(ref _requests);
    public long NewUsers => Interlocked.Read(ref _newUsers);
    public long Snapshots => Interlocked.Read(ref _snapshots);

    /// <summary>Sessions the partitions closed (gap, end type, session field, watermark, end of input), each with its end marker.</summary>
    public long SessionsClosed => Interlocked.Read(ref _sessionsClosed);

    public void Add(PartitionReply reply)
    {
        Interlocked.Add(ref _accepted, reply.Accepted);
        Interlocked.Add(ref _duplicates, reply.Duplicates);
        if (reply.Accepted > 0) Interlocked.Increment(ref _rows);
        Interlocked.Add(ref _requests, reply.Requests.Count);
        Interlocked.Add(ref _newUsers, reply.NewUsers);
        if (reply.SnapshotTaken) Interlocked.Increment(ref _snapshots);
        if (reply.SessionsClosed > 0) Interlocked.Add(ref _sessionsClosed, reply.SessionsClosed);
    }
}
