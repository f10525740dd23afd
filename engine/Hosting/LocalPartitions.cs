using Akka.Actor;
using StreamDetect.Engine.Entities;
using StreamDetect.Stages.Partitions;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// Routes partition messages (<see cref="IPartitionMessage"/>) to child <see cref="UserPartition"/> actors
/// on this node, created on first use: the user partitions without a cluster (offline tools such as
/// `state dump`, and tests). The running engine uses a cluster shard region instead.
/// </summary>
public sealed class LocalPartitions : ReceiveActor
{
    private readonly UserPartitionSettings _settings;
    private readonly string _store;

    /// <param name="store">Names the store in the partitions' failures (<see cref="Persistence.StoreDescription"/>).</param>
    public LocalPartitions(UserPartitionSettings settings, string store = "the store")
    {
        _settings = settings;
        _store = store;
        Receive<IPartitionMessage>(m => Child(m.Partition).Forward(m));
    }

    public static Props Props(UserPartitionSettings settings, string store = "the store") => Akka.Actor.Props.Create(() => new LocalPartitions(settings, store));

    private IActorRef Child(int partition)
    {
        string name = $"partition-{partition}";
        var child = Context.Child(name);
        return child.IsNobody() ? Context.ActorOf(UserPartition.Props(partition, _settings, _store), name) : child;
    }
}
