using Confluent.Kafka;

namespace StreamDetect.Stages.Kafka;

/// <summary>Records of one partition deleted by retention before this consumer group read them: offsets <see cref="From"/> to <see cref="From"/> + <see cref="Count"/> - 1.</summary>
/// <param name="LogStart">The partition's first offset when the loss was seen.</param>
public sealed record RetentionGap(TopicPartition Partition, long From, long Count, long LogStart)
{
    public override string ToString() =>
        $"{Count:N0} records of topic '{Partition.Topic}' partition {Partition.Partition.Value} were deleted by retention before they were read " +
        $"(offsets {From:N0} to {From + Count - 1:N0}; the log now starts at {LogStart:N0})";
}
