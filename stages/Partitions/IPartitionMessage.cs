namespace StreamDetect.Stages.Partitions;

/// <summary>
/// A protocol message addressed to one user partition. Sharding's message extractor and the local
/// (cluster-less) router deliver it by <see cref="Partition"/> alone.
/// </summary>
public interface IPartitionMessage : IPartitionProtocol
{
    /// <summary>The user partition (0..partitions-1) the message is for.</summary>
    int Partition { get; }
}
