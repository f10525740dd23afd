using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Integration.Tests.Scoring;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Integration.Tests.Cluster;

/// <summary>
/// The alert state lives with the user's partition: when a partition moves to another node (its node
/// leaves the cluster), its users keep their cooldowns and last alert ids, so nobody is alerted again
/// because of the move.
/// </summary>
public sealed class PartitionMoveTests(ITestOutputHelper output)
{
    private const long Hour = 3_600_000L;
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Users_of_a_partition_that_moved_to_another_node_keep_their_cooldown_and_last_alert()
    {
        using var dir = new TempDirectory();
        int seedPort = FreePort(), otherPort = FreePort();
        // One store both nodes see (SQLite here; PostgreSQL in a deployment), thresholds 0 (every event may alert),
        // a cooldown of 6 h.
        string Config(int port) => $$"""
            streamdetect.store.kind = sqlite
            streamdetect.store.data-dir = "{{dir.File("data")}}"
            streamdetect.thresholds { mode = fixed, fixed { new = 0, established = 0 } }
            streamdetect.alerts.cooldown = 6h
            akka.remote.dot-netty.tcp.port = {{port}}
            akka.cluster.seed-nodes = ["akka.tcp://streamdetect@127.0.0.1:{{seedPort}}"]
            """;
        var config = EngineConfig.Load(null, Config(seedPort));
        var seedTask = EngineHost.StartAsync(config, cluster: true, TestContext.Current.CancellationToken);
        var otherTask = EngineHost.StartAsync(EngineConfig.Load(null, Config(otherPort)), cluster: true, TestContext.Current.CancellationToken);
        await using var seed = await seedTask;
        var other = await otherTask;
        using var scorer = new Scorer(QuickModel.Train("zscore"), ScorerSettings.Default with { TorchThreads = 1 });

        var users = Enumerable.Range(0, 200).Select(u => $"u-{u}").ToList();
        long offset = 0;
        List<IngestedEvent> EventsAt(long timeMs) =>
            users.Select(u => new IngestedEvent(new UserEvent(u, timeMs, EventTypes.View) { Item = "sku-1" }, new SourcePosition("move-test", 0, ++offset, 1))).ToList();

        // Phase 1, partitions on both nodes: every user alerts on its first event.
        var first = await ScoreAsync(seed, config, scorer, EventsAt(T0));
        Assert.Equal(users.Order(), first.Select(a => a.UserId).Order());
        int shardsOnOther = await ShardCount(other);
        Assert.True(shardsOnOther > 0, "some partitions should live on the other node");

        // The other node leaves: its partitions move to the seed and recover from the store.
        await other.DisposeAsync();

        // Phase 2, an hour later: within every user's cooldown, whichever node its partition was on.
        var second = await ScoreAsync(seed, config, scorer, EventsAt(T0 + Hour));
        output.WriteLine($"{shardsOnOther} shards moved; alerts: {first.Count} first, {second.Count} within the cooldown");
        Assert.Empty(second);
        Assert.Equal(32, await ShardCount(seed)); // every shard is on the seed now

        // Phase 3, after the cooldown: everyone alerts again, and each user's partition knows its last alert.
        var third = await ScoreAsync(seed, config, scorer, EventsAt(T0 + 7 * Hour));
        Assert.Equal(users.Order(), third.Select(a => a.UserId).Order());
        Assert.Empty(third.Select(a => a.AlertId).Intersect(first.Select(a => a.AlertId)));
    }

    private static async Task<List<AlertRecord>> ScoreAsync(EngineHost host, Akka.Configuration.Config config, Scorer scorer, List<IngestedEvent> events)
    {
        var scoring = ScoringPipeline.Create(host, scorer, config, ThresholdSettings.Create(config), _ => null, new DetectionReport(long.MinValue, null));
        var alerts = new ConcurrentQueue<AlertRecord>();
        var collect = Flow.Create<AlertRecord>().Select(a =>
        {
            alerts.Enqueue(a);
            return a;
        });
        await new IngestJob(host).RunAsync(Source.From(events).MapMaterializedValue(_ => Task.FromResult(DeadLetterSummary.Empty)),
                scoring.Sink(collect), () => events.Count, TestContext.Current.CancellationToken, scoring: scoring.Context)
            .WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        return alerts.ToList();
    }

    private static async Task<int> ShardCount(EngineHost host)
    {
        var region = ClusterSharding.Get(host.System).ShardRegion("user-partition");
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        return state.Shards.Count;
    }
}
