namespace StreamDetect.Stages.Partitions;

/// <summary>
/// Sent to a stream's scoring inbox when events it delivered were handed to another stream for scoring (a
/// user whose events came through two nodes around a rebalance is scored by one of them): the stream's
/// decision ledger stops waiting for them.
/// </summary>
public sealed record HandedOver(int Partition, IReadOnlyList<long> Keys) : IPartitionProtocol;
