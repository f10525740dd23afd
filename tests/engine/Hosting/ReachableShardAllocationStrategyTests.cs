using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.TestKit.Xunit;
using StreamDetect.Engine.Hosting;

namespace StreamDetect.Engine.Tests.Hosting;

/// <summary>The colocating allocation moves no shard while a region's node is unreachable, and places none on such a region.</summary>
public sealed class ReachableShardAllocationStrategyTests : TestKit
{
    public ReachableShardAllocationStrategyTests(ITestOutputHelper output) : base(output: output)
    {
    }

    /// <summary>Wants every listed shard moved and every shard placed on one region, as Kafka's assignment may.</summary>
    private sealed class Wants(IActorRef placeOn, params string[] move) : IStartableAllocationStrategy
    {
        public bool Started { get; private set; }

        public void Start() => Started = true;

        public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations) =>
            Task.FromResult(placeOn);

        public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress) =>
            Task.FromResult<IImmutableSet<string>>(move.ToImmutableHashSet());
    }

    [Fact]
    public async Task No_shard_moves_while_a_region_is_unreachable_and_every_wanted_move_happens_once_it_is_gone()
    {
        IActorRef alive = CreateTestProbe().Ref, killed = CreateTestProbe().Ref;
        var allocations = ImmutableDictionary<IActorRef, IImmutableList<string>>.Empty
            .Add(alive, ImmutableList.Create("1", "2"))
            .Add(killed, ImmutableList.Create("3", "4"));
        var inner = new Wants(alive, "2", "3", "4");
        var strategy = new ReachableShardAllocationStrategy(inner, region => !region.Equals(killed), () => true);

        strategy.Start();
        Assert.True(inner.Started);
        // A hand-off needs every region's acknowledgement: even shard 2, on a live region, would wait for the killed one.
        Assert.Empty(await strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));

        // Once the killed node is downed its region leaves the allocations: nothing is held back any more.
        var afterDown = allocations.Remove(killed);
        Assert.Equal(["2", "3", "4"], (await strategy.Rebalance(afterDown, ImmutableHashSet<string>.Empty)).Order());
    }

    [Fact]
    public async Task A_shard_the_inner_strategy_places_on_an_unreachable_region_goes_to_the_requester()
    {
        IActorRef requester = CreateTestProbe().Ref, killed = CreateTestProbe().Ref;
        var allocations = ImmutableDictionary<IActorRef, IImmutableList<string>>.Empty
            .Add(requester, ImmutableList<string>.Empty)
            .Add(killed, ImmutableList<string>.Empty);

        var toKilled = new ReachableShardAllocationStrategy(new Wants(killed), region => !region.Equals(killed), () => true);
        Assert.Equal(requester, await toKilled.AllocateShard(requester, "7", allocations));

        var toLive = new ReachableShardAllocationStrategy(new Wants(killed), _ => true, () => true);
        Assert.Equal(killed, await toLive.AllocateShard(requester, "7", allocations));
    }

    /// <summary>
    /// A node killed and restarted on the same address: its dead incarnation's region looks reachable through the new
    /// one, so while the membership is not settled (the new incarnation joining) nothing moves and a new shard goes to
    /// the node that asked. A move of the dead region's shards hung for the 60 s hand-off timeout.
    /// </summary>
    [Fact]
    public async Task While_the_membership_is_not_settled_nothing_moves_and_a_shard_goes_to_the_requester()
    {
        IActorRef requester = CreateTestProbe().Ref, deadIncarnation = CreateTestProbe().Ref;
        var allocations = ImmutableDictionary<IActorRef, IImmutableList<string>>.Empty
            .Add(requester, ImmutableList.Create("1"))
            .Add(deadIncarnation, ImmutableList.Create("3"));
        bool settled = false;
        var strategy = new ReachableShardAllocationStrategy(new Wants(deadIncarnation, "3"), _ => true, () => settled);

        Assert.Empty(await strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));
        Assert.Equal(requester, await strategy.AllocateShard(requester, "7", allocations));

        settled = true;
        Assert.Equal(["3"], await strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));
        Assert.Equal(deadIncarnation, await strategy.AllocateShard(requester, "7", allocations));
    }
}
