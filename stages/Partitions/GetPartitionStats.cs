namespace StreamDetect.Stages.Partitions;

/// <summary>Asks a user partition for its <see cref="PartitionStats"/>.</summary>
public sealed record GetPartitionStats(int Partition) : IPartitionMessage;
