using StreamDetect.Models.Features;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// Maps a user to one of a fixed number of partitions with a process-independent hash, so the same
/// user always lands on the same persistent partition entity on every node and after every restart.
/// <para>
/// Two hashes (<c>streamdetect.routing.colocate</c>, fixed for a data directory): off, a stable hash of the
/// userId (<see cref="StableHash"/>); on, the hash Kafka's default partitioner puts on a record keyed by the
/// userId (<see cref="KafkaKeyHash"/>), so that with K Kafka partitions and K dividing the partition count,
/// user partition p holds exactly the users of Kafka partition <c>p % K</c> (<see cref="KafkaPartitionOf"/>).
/// </para>
/// </summary>
public static class UserPartitioner
{
    public static int PartitionOf(string userId, int partitions) =>
        (int)((uint)StableHash.Of(userId) % (uint)partitions);

    /// <param name="kafkaKeyed">The Kafka key hash (<c>routing.colocate = on</c>) instead of the stable hash.</param>
    public static int PartitionOf(string userId, int partitions, bool kafkaKeyed) =>
        kafkaKeyed ? KafkaKeyHash.Of(userId) % partitions : PartitionOf(userId, partitions);

    /// <summary>The partition of <paramref name="userId"/> under <paramref name="settings"/> (its count and its hash).</summary>
    public static int PartitionOf(string userId, EntityRoutingSettings settings) =>
        PartitionOf(userId, settings.Partitions, settings.Colocate);

    /// <summary>
    /// With the Kafka key hash and <paramref name="kafkaPartitions"/> dividing the partition count: the one Kafka
    /// partition whose users user partition <paramref name="partition"/> holds ((h % P) % K = h % K when K divides P).
    /// </summary>
    public static int KafkaPartitionOf(int partition, int kafkaPartitions) => partition % kafkaPartitions;
}
