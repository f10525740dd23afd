using Confluent.Kafka;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Per-partition bookkeeping of a consumer's emitted and processed records: what may be committed.
/// A partition is tracked from its assignment to its revocation; each assignment has a new epoch, so
/// completions that arrive for an earlier ownership of the partition are ignored and never committed.
/// Not thread-safe: the consumer session serializes access under its lock.
/// </summary>
internal sealed class OffsetTracker
{
    private readonly Dictionary<TopicPartition, PartitionOffsets> _partitions = new();

    /// <summary>Partitions currently owned.</summary>
    public IEnumerable<TopicPartition> Partitions => _partitions.Keys;

    /// <summary>Starts tracking a newly assigned partition (replacing any earlier state).</summary>
    public void Assign(TopicPartition partition, int epoch) => _partitions[partition] = new PartitionOffsets(epoch);

    /// <summary>Stops tracking a partition; later completions for it are ignored.</summary>
    public void Remove(TopicPartition partition) => _partitions.Remove(partition);

    /// <summary>Whether the partition is owned in this epoch.</summary>
    public bool IsOwned(TopicPartition partition, int epoch) =>
        _partitions.TryGetValue(partition, out var p) && p.Epoch == epoch;

    /// <summary>Records that a record is emitted downstream; false (and nothing recorded) if the partition is not owned in this epoch.</summary>
    public bool Register(TopicPartition partition, int epoch, long offset)
    {
        if (!_partitions.TryGetValue(partition, out var p) || p.Epoch != epoch) return false;
        p.Register(offset);
        return true;
    }

    /// <summary>Marks a record done; false if it is stale (another epoch, revoked, unknown or already done).</summary>
    public bool Complete(TopicPartition partition, int epoch, long offset) =>
        _partitions.TryGetValue(partition, out var p) && p.Epoch == epoch && p.Complete(offset);

    /// <summary>Emitted records of the partition not yet done (0 when not owned).</summary>
    public int Outstanding(TopicPartition partition) =>
        _partitions.TryGetValue(partition, out var p) ? p.Outstanding : 0;

    /// <summary>The commit offset of a partition (null when not owned or nothing emitted).</summary>
    public long? CommitOffset(TopicPartition partition) =>
        _partitions.TryGetValue(partition, out var p) ? p.CommitOffset : null;

    /// <summary>Commits that would advance owned partitions (all, or only <paramref name="only"/>).</summary>
    public List<TopicPartitionOffset> PendingCommits(IEnumerable<TopicPartition>? only = null)
    {
        var result = new List<TopicPartitionOffset>();
        foreach (var partition in only ?? _partitions.Keys)
        {
            if (_partitions.TryGetValue(partition, out var p) && p.HasNewCommit)
                result.Add(new TopicPartitionOffset(partition, new Offset(p.CommitOffset!.Value)));
        }
        return result;
    }

    /// <summary>Records successful commits so they are not sent again.</summary>
    public void Committed(IEnumerable<TopicPartitionOffset> offsets)
    {
        foreach (var tpo in offsets)
        {
            if (_partitions.TryGetValue(tpo.TopicPartition, out var p)) p.Committed(tpo.Offset.Value);
        }
    }
}
