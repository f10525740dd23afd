using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// Wraps a shard allocation strategy so that it never moves a shard off, or places one on, a region whose node is
/// unreachable. With <c>routing.colocate</c> the Kafka group's assignment decides where user partitions belong, and
/// Kafka may hand a killed node's partitions to the survivors before the cluster has downed that node: the external
/// strategy then asked the coordinator to move the killed node's shards, a hand-off that region can never answer.
/// Those shards stayed "rebalancing" for the whole hand-off timeout (60 s), every message to them was buffered, and
/// the streams waiting on them stalled (a drain gave up after 2 minutes). Left where they are, they are allocated
/// afresh, to where Kafka wants them, as soon as the downed node's region is gone.
/// </summary>
public sealed class ReachableShardAllocationStrategy : IStartableAllocationStrategy
{
    private readonly IShardAllocationStrategy _inner;
    private readonly Func<IActorRef, bool> _reachable;

    /// <param name="inner">The strategy that decides (Akka's external allocation, fed by the Kafka assignment).</param>
    /// <param name="reachable">Whether a shard region's node is reachable now.</param>
    public ReachableShardAllocationStrategy(IShardAllocationStrategy inner, Func<IActorRef, bool> reachable)
    {
        _inner = inner;
        _reachable = reachable;
    }

    /// <summary>Regions on this node, or on a member the cluster does not list as unreachable, are reachable.</summary>
    public static Func<IActorRef, bool> ReachableIn(Cluster cluster) => region =>
    {
        var address = region.Path.Address;
        if (address.HasLocalScope || address.Equals(cluster.SelfAddress)) return true;
        foreach (var member in cluster.State.Unreachable)
            if (member.Address.Equals(address)) return false;
        return true;
    };

    /// <inheritdoc />
    public void Start()
    {
        if (_inner is IStartableAllocationStrategy startable) startable.Start();
    }

    /// <summary>The inner strategy's choice, unless that region is unreachable: then the requester, which asked and so is alive.</summary>
    public async Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var chosen = await _inner.AllocateShard(requester, shardId, currentShardAllocations);
        return _reachable(chosen) ? chosen : requester;
    }

    /// <summary>The inner strategy's shards to move, less those held by an unreachable region.</summary>
    public async Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress)
    {
        var moves = await _inner.Rebalance(currentShardAllocations, rebalanceInProgress);
        if (moves.Count == 0) return moves;
        var stuck = currentShardAllocations.Where(region => !_reachable(region.Key)).SelectMany(region => region.Value).ToHashSet(StringComparer.Ordinal);
        return stuck.Count == 0 ? moves : moves.Except(stuck);
    }
}
