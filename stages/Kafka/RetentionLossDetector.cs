using Confluent.Kafka;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Finds records a consumer group never read because retention deleted them first. Per partition it keeps
/// the offset the group expects to read next: on assignment the group's committed offset (or 0 for a group
/// without a commit that starts at the earliest record, since a Kafka partition's first offset is 0), then
/// one past each record read. A record above the expected offset is a gap; it is a loss only as far as the
/// partition's log start has moved past the expected offset, so holes that are not retention (transaction
/// markers, compaction) are not counted: lost = min(record, log start) - expected. Not thread-safe (the
/// poll thread owns it).
/// </summary>
internal sealed class RetentionLossDetector
{
    private readonly Dictionary<TopicPartition, long> _expected = new();
    private readonly Dictionary<TopicPartition, long> _lost = new();

    /// <summary>Records lost on every partition so far.</summary>
    public long Total { get; private set; }

    /// <summary>Records lost per partition so far (partitions with a loss only).</summary>
    public IReadOnlyDictionary<TopicPartition, long> PerPartition => _lost;

    /// <summary>A partition was assigned; <paramref name="expected"/> is where the group should read next, or null when unknown (the first record read sets it).</summary>
    public void Assign(TopicPartition partition, long? expected)
    {
        if (expected is long next and >= 0) _expected[partition] = next;
        else _expected.Remove(partition);
    }

    /// <summary>The partition was revoked or lost.</summary>
    public void Remove(TopicPartition partition) => _expected.Remove(partition);

    /// <summary>Whether reading <paramref name="offset"/> skips offsets the group expected (then <see cref="Observe"/> needs the log start).</summary>
    public bool IsGap(TopicPartition partition, long offset) => _expected.TryGetValue(partition, out long expected) && offset > expected;

    /// <summary>
    /// A record at <paramref name="offset"/> was read. Returns the loss it reveals, or null. <paramref name="logStart"/>
    /// is asked for only on a gap; null there (unknown) counts nothing.
    /// </summary>
    public RetentionGap? Observe(TopicPartition partition, long offset, Func<TopicPartition, long?> logStart)
    {
        RetentionGap? gap = null;
        if (_expected.TryGetValue(partition, out long expected) && offset > expected && logStart(partition) is long start && start > expected)
        {
            long count = Math.Min(offset, start) - expected;
            gap = new RetentionGap(partition, expected, count, start);
            _lost[partition] = _lost.GetValueOrDefault(partition) + count;
            Total += count;
        }
        if (!_expected.TryGetValue(partition, out long current) || offset >= current) _expected[partition] = offset + 1;
        return gap;
    }
}
