namespace StreamDetect.Engine.Entities;

/// <summary>
/// Sharding's hand-off stop message for a <see cref="UserPartition"/> (a rebalance moves its shard, or it is passivated):
/// the partition stops once no journal write of its own is in flight. With a plain PoisonPill it stopped at once while
/// rows it had sent to the journal were still being written; the next incarnation, on another node, could then recover
/// without them and write the same sequence numbers with other events (events lost when a node joined mid-stream).
/// </summary>
public sealed class StopPartition
{
    public static readonly StopPartition Instance = new();

    private StopPartition()
    {
    }
}
