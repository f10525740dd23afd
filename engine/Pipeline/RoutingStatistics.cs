using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Engine.Pipeline;

/// <summary>Totals over the partitions' replies: what was persisted, what was a replay.</summary>
public sealed class RoutingStatistics
{
    private long _accepted, _duplicates, _rows, _requests, _newUsers, _snapshots, _sessionsClosed, _localAsks, _remoteAsks;

    public long Accepted => Interlocked.Read(ref _accepted);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Rows => Interlocked.Read(ref _rows);
    public long Requests => Interlocked.Read(ref _requests);
    public long NewUsers => Interlocked.Read(ref _newUsers);
    public long Snapshots => Interlocked.Read(ref _snapshots);

    /// <summary>Sessions the partitions closed (gap, end type, session field, watermark, end of input), each with its end marker.</summary>
    public long SessionsClosed => Interlocked.Read(ref _sessionsClosed);

    /// <summary>Batches of events this node's stream sent to partitions hosted on this node (end-of-input closes not counted).</summary>
    public long LocalAsks => Interlocked.Read(ref _localAsks);

    /// <summary>Batches of events this node's stream sent to partitions hosted on another node of the cluster.</summary>
    public long RemoteAsks => Interlocked.Read(ref _remoteAsks);

    /// <summary>The share of the asks that went to another node (0 when none was counted).</summary>
    public double RemoteAskShare => LocalAsks + RemoteAsks is var all and > 0 ? (double)RemoteAsks / all : 0;

    /// <summary>Counts one answered ask, by where its partition was.</summary>
    public void AddAsk(bool local)
    {
        if (local) Interlocked.Increment(ref _localAsks);
        else Interlocked.Increment(ref _remoteAsks);
    }

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
