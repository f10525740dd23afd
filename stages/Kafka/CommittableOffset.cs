using Confluent.Kafka;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// The handle that lets a processed record be committed: hand it to <see cref="KafkaCommitter.Sink"/>
/// once the record is done (persisted, or written to the dead letters). It remembers which consumer and
/// which ownership of the partition emitted the record, so a handle that outlives a rebalance is ignored
/// instead of committing offsets for a partition this consumer no longer owns.
/// </summary>
public sealed class CommittableOffset
{
    internal CommittableOffset(KafkaConsumerSession session, TopicPartition partition, int epoch, SourcePosition position)
    {
        Session = session;
        TopicPartition = partition;
        Epoch = epoch;
        Position = position;
    }

    /// <summary>Where the record came from: ("kafka:" + topic, partition, offset).</summary>
    public SourcePosition Position { get; }

    public long Offset => Position.Offset;

    internal KafkaConsumerSession Session { get; }
    internal TopicPartition TopicPartition { get; }
    internal int Epoch { get; }

    public override string ToString() => Position.ToString();
}
