namespace StreamDetect.Stages.Kafka;

/// <summary>
/// How far a consumer is behind on one partition it owns: records between the group's committed offset (or,
/// before any commit and without commits, the consumer's position) and the partition's high watermark.
/// </summary>
public sealed record PartitionLag(string Topic, int Partition, long Records);
