using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// Wraps a shard allocation strategy so that it moves no shard while a region's node is unreachable and places none
/// on such a region. With <c>routing.colocate</c> the Kafka group's assignment decides where user partitions belong, and
/// Kafka may hand a killed node's partitions to the survivors before the cluster has downed that node: the external
/// strategy then asked the coordinator to move the killed node's shards, a hand-off that region can never answer.
/// Those shards stayed "rebalancing" for the whole hand-off timeout (60 s), every message to them was buffered, and
/// the streams waiting on them stalled (a drain gave up after 2 minutes). Left where they are, they are allocated
/// afresh, to where Kafka wants them, as soon as the downed node's region is gone, and the other moves wait for the
/// next rebalance tick.
/// </summary>
public sealed class ReachableShardAllocationStrategy : IStartableAllocationStrategy
{
    private readonly IShardAllocationStrategy _inner;
    private readonly Func<IActorRef, bool> _reachable;
    private readonly Func<bool> _settled;

    /// <param name="inner">The strategy that decides (Akka's external allocation, fed by the Kafka assignment).</param>
    /// <param name="reachable">Whether a shard region's node is reachable now.</param>
    /// <param name="settled">Whether the membership is settled: every member up and none unreachable (see <see cref="SettledIn"/>).</param>
    public ReachableShardAllocationStrategy(IShardAllocationStrategy inner, Func<IActorRef, bool> reachable, Func<bool> settled)
    {
        _inner = inner;
        _reachable = reachable;
        _settled = settled;
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

    /// <summary>
    /// Every member is up and none is unreachable. A node killed and restarted on the same host and port shows why
    /// reachability alone is not enough: a region's actor ref names an address, not an incarnation, so the dead
    /// incarnation's region, still registered with the coordinator, looks reachable through the new one (seen: a move
    /// of the killed node's shards hung for the 60 s hand-off timeout once the new incarnation was joining).
    /// </summary>
    public static Func<bool> SettledIn(Cluster cluster) => () =>
    {
        var state = cluster.State;
        if (state.Unreachable.Count > 0) return false;
        foreach (var member in state.Members)
            if (member.Status != MemberStatus.Up) return false;
        return true;
    };

    /// <inheritdoc />
    public void Start()
    {
        if (_inner is IStartableAllocationStrategy startable) startable.Start();
    }

    /// <summary>
    /// The inner strategy's choice while the membership is settled and that region reachable; otherwise the requester,
    /// which asked and so is alive (a later rebalance moves the shard where the inner strategy wants it).
    /// </summary>
    public async Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        if (!_settled()) return requester;
        var chosen = await _inner.AllocateShard(requester, shardId, currentShardAllocations);
        return _reachable(chosen) ? chosen : requester;
    }

    /// <summary>
    /// The inner strategy's shards to move, or none while the membership is not settled or a region is unreachable: a
    /// hand-off begins with every region acknowledging it, so one that cannot answer holds any move (and the messages
    /// buffered for it) until the cluster downs its node and the coordinator drops its region. The first rebalance tick
    /// after that moves them.
    /// </summary>
    public async Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress)
    {
        if (!_settled() || currentShardAllocations.Keys.Any(region => !_reachable(region))) return ImmutableHashSet<string>.Empty;
        return await _inner.Rebalance(currentShardAllocations, rebalanceInProgress);
    }
}
