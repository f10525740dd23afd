using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Hosting;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Integration.Tests.Cluster;

/// <summary>
/// Going to many nodes is configuration only: two engine nodes form a cluster from seed-nodes, the user
/// partitions spread over both, and a stream on one node persists events in entities on the other
/// (every message crossing nodes goes through the engine's binary serializer).
/// </summary>
public sealed class TwoNodeClusterTests(ITestOutputHelper output)
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task A_stream_on_one_node_persists_and_scores_through_partitions_on_both_nodes()
    {
        using var dir = new TempDirectory();
        int seedPort = FreePort(), otherPort = FreePort();
        string Config(int port) => $"""
            streamdetect.store.kind = memory
            streamdetect.store.data-dir = "{dir.Path}"
            akka.remote.dot-netty.tcp.port = {port}
            akka.cluster.seed-nodes = ["akka.tcp://streamdetect@127.0.0.1:{seedPort}"]
            akka.actor.serialize-messages = off
            """;

        var seedTask = EngineHost.StartAsync(EngineConfig.Load(null, Config(seedPort)), cluster: true, TestContext.Current.CancellationToken);
        var otherTask = EngineHost.StartAsync(EngineConfig.Load(null, Config(otherPort)), cluster: true, TestContext.Current.CancellationToken);
        await using var seed = await seedTask;
        await using var other = await otherTask;

        var generator = new TrafficGenerator(GeneratorSettings.Default with { Users = 500, Days = 1, Seed = 2 });
        long offset = 0;
        var events = generator.Events().Select(e => new IngestedEvent(e, new SourcePosition("cluster-test", 0, ++offset, 1))).ToList();

        var replies = await Source.From(events)
            .Via(EntityRoutingFlow.Create(seed.Partitions, seed.Settings.Routing))
            .RunWith(Sink.Seq<PartitionReply>(), seed.System.Materializer())
            .WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        Assert.Equal(events.Count, replies.Sum(r => r.Accepted));
        var requests = replies.SelectMany(r => r.Requests).ToList();
        Assert.Equal(events.Count, requests.GroupBy(r => r.UserId).Sum(g => g.Max(r => r.EventCount)));

        // a model state sent from the stream's node reaches the entity wherever it lives
        var some = requests[^1];
        seed.Partitions.Tell(new ModelStateUpdate(some.Partition, some.UserId, new Models.Features.ModelStateSlot("m@1", some.EventCount, [1f, 2f])));

        // the entities really are on both nodes
        int shardsHere = await ShardCount(seed.System);
        int shardsThere = await ShardCount(other.System);
        output.WriteLine($"{events.Count} events, shards: {shardsHere} on the seed, {shardsThere} on the other node");
        Assert.True(shardsHere > 0 && shardsThere > 0, $"shards: {shardsHere} and {shardsThere}");

        var stats = await seed.PartitionStatsAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(events.Count, stats.Sum(s => s.EventsPersisted));
        var states = await seed.Partitions.Ask<UserStates>(new GetUserStates(some.Partition), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal("m@1", states.Read(some.UserId).ModelState?.ModelKey);
    }

    private static async Task<int> ShardCount(ActorSystem system)
    {
        var region = ClusterSharding.Get(system).ShardRegion("user-partition");
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        return state.Shards.Count;
    }
}
