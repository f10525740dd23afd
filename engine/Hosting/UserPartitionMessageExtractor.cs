using Akka.Cluster.Sharding;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// Sharding's view of the user partitions: the entity id is the partition number (itself a stable
/// hash of the userId, <see cref="UserPartitioner"/>) of any <see cref="IPartitionMessage"/>, and
/// partitions are spread over a fixed number of shards, the unit sharding moves between nodes.
/// </summary>
public sealed class UserPartitionMessageExtractor(int shards) : IMessageExtractor
{
    public string? EntityId(object message) => message is IPartitionMessage m ? m.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => message is IPartitionMessage m ? (m.Partition % shards).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;

    public string ShardId(string entityId, object? messageHint = null) =>
        (int.Parse(entityId, System.Globalization.CultureInfo.InvariantCulture) % shards).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
