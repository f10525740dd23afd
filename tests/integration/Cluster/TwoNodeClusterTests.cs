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
using StreamDetect.Engine.Pipeline;
using StreamDetect.Integration.Tests.Scoring;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Thresholds;
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

        // The whole scoring loop runs on the seed node; the partitions it asks and settles with live on both.
        var config = EngineConfig.Load(null, Config(seedPort) + "\nstreamdetect.thresholds { mode = fixed, fixed { new = 0, established = 0 } }");
        using var scorer = new Scorer(QuickModel.Train("zscore"), ScorerSettings.Default with { TorchThreads = 1 });
        var scoring = ScoringPipeline.Create(seed, scorer, config, ThresholdSettings.Create(config), _ => null, new DetectionReport(long.MinValue, null));
        var alerts = new System.Collections.Concurrent.ConcurrentQueue<AlertRecord>();
        var collect = Flow.Create<AlertRecord>().Select(a =>
        {
            alerts.Enqueue(a);
            return a;
        });
        var running = new IngestJob(seed).RunAsync(Source.From(events).MapMaterializedValue(_ => Task.FromResult(DeadLetterSummary.Empty)),
            scoring.Sink(collect), () => events.Count, TestContext.Current.CancellationToken, scoring: scoring.Context);
        var result = await running.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        Assert.Equal(events.Count, result.Routing.Accepted);
        Assert.Equal(events.Count + result.Routing.SessionsClosed, scoring.EventsDecided); // every event and session end marker scored and decided once
        // Thresholds 0: every user alerts on its first event, then again only after the cooldown (6 h): the alert
        // state went back and forth between the stream and partitions on the other node with every settlement.
        Assert.Equal(events.Select(e => e.Event.UserId).Distinct().Order(), alerts.Select(a => a.UserId).Distinct().Order());
        Assert.Equal(alerts.Count, alerts.Select(a => a.AlertId).Distinct().Count());
        foreach (var user in alerts.GroupBy(a => a.UserId))
        {
            var times = user.Select(a => a.TimeMs).Order().ToList();
            for (int i = 1; i < times.Count; i++) Assert.True(times[i] - times[i - 1] >= 6 * 3_600_000L, $"{user.Key} alerted twice within the cooldown");
        }

        // the entities really are on both nodes
        int shardsHere = await ShardCount(seed.System);
        int shardsThere = await ShardCount(other.System);
        output.WriteLine($"{events.Count} events, {alerts.Count} alerts, shards: {shardsHere} on the seed, {shardsThere} on the other node");
        Assert.True(shardsHere > 0 && shardsThere > 0, $"shards: {shardsHere} and {shardsThere}");

        var stats = await seed.PartitionStatsAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(events.Count, stats.Sum(s => s.EventsPersisted));

        // What each node reports hosting (the gauges streamdetect.partitions.local and users.local): between them
        // every partition (all awake after the stats above) and every user, each on one node only.
        using var here = new Engine.Telemetry.NodeOccupancy(() => seed);
        using var there = new Engine.Telemetry.NodeOccupancy(() => other);
        await here.RefreshNowAsync(seed);
        await there.RefreshNowAsync(other);
        output.WriteLine($"partitions: {here.Partitions} here, {there.Partitions} there; users: {here.Users} here, {there.Users} there");
        Assert.Equal(seed.Settings.Routing.Partitions, here.Partitions + there.Partitions);
        Assert.InRange(here.Partitions ?? 0, 1, seed.Settings.Routing.Partitions - 1);
        Assert.Equal(stats.Sum(s => (long)s.Users), here.Users + there.Users);
        var some = alerts.Where(a => a.UserId == alerts.First().UserId).MaxBy(a => a.TimeMs)!; // the user's last alert
        int partition = UserPartitioner.PartitionOf(some.UserId, seed.Settings.Routing.Partitions);
        var alertState = await seed.Partitions.Ask<UserAlertStateReply>(new GetAlertState(partition, some.UserId), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(some.AlertId, alertState.State.LastAlertId);
    }

    private static async Task<int> ShardCount(ActorSystem system)
    {
        var region = ClusterSharding.Get(system).ShardRegion("user-partition");
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        return state.Shards.Count;
    }
}
