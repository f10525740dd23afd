using Akka.Cluster.Sharding;
using StreamDetect.Engine.Entities;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// Sharding's view of the user partitions: the entity id is the partition number (itself a stable
/// hash of the userId, <see cref="UserPartitioner"/>), and partitions are spread over a fixed number
/// of shards, the unit sharding moves between nodes.
/// </summary>
public sealed class UserPartitionMessageExtractor(int shards) : IMessageExtractor
{
    public string? EntityId(object message) => PartitionOf(message)?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => PartitionOf(message) is int p ? (p % shards).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;

    public string ShardId(string entityId, object? messageHint = null) =>
        (int.Parse(entityId, System.Globalization.CultureInfo.InvariantCulture) % shards).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static int? PartitionOf(object message) => message switch
    {
        PartitionBatch b => b.Partition,
        ModelStateUpdate m => m.Partition,
        GetUserWindow w => w.Partition,
        GetPartitionStats s => s.Partition,
        GetUserStates u => u.Partition,
        TakeRescoring t => t.Partition,
        FlushScoredMarks f => f.Partition,
        _ => null,
    };
}
