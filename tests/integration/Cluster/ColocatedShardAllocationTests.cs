using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Sharding;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.Partitions;

namespace StreamDetect.Integration.Tests.Cluster;

/// <summary>
/// <c>streamdetect.routing.colocate</c> in a real two-node cluster (one process): each node's
/// <see cref="KafkaShardPlacement"/> records the user partitions of the Kafka partitions its consumer owns, and
/// sharding's external allocation puts them there, first when they start and again after the consumer group
/// rebalances. The consumer's assignment is the input (a real consumer's is read from <c>IKafkaControl.Assignment</c>).
/// </summary>
public sealed class ColocatedShardAllocationTests(ITestOutputHelper output)
{
    private const int UserPartitions = 8, KafkaPartitions = 4;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task A_user_partition_must_start_on_the_node_holding_its_Kafka_partition_and_follow_a_rebalance()
    {
        using var dir = new TempDirectory();
        int seedPort = FreePort(), otherPort = FreePort();
        string Config(int port) => $"""
            streamdetect.store.kind = memory
            streamdetect.store.data-dir = "{dir.Path}"
            streamdetect.routing.partitions = {UserPartitions}
            streamdetect.routing.colocate = on
            akka.remote.dot-netty.tcp.port = {port}
            akka.cluster.seed-nodes = ["akka.tcp://streamdetect@127.0.0.1:{seedPort}"]
            akka.cluster.sharding.rebalance-interval = 1s
            akka.actor.serialize-messages = off
            """;
        var seedTask = EngineHost.StartAsync(EngineConfig.Load(null, Config(seedPort)), cluster: true, TestContext.Current.CancellationToken, colocateWithKafka: true);
        var otherTask = EngineHost.StartAsync(EngineConfig.Load(null, Config(otherPort)), cluster: true, TestContext.Current.CancellationToken, colocateWithKafka: true);
        await using var seed = await seedTask;
        await using var other = await otherTask;
        await Probe.UntilAsync(() => Task.FromResult(Akka.Cluster.Cluster.Get(seed.System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == 2),
            TimeSpan.FromSeconds(30), () => "the two nodes did not form a cluster");

        // The consumer group's split: the seed node's consumer owns Kafka partitions 0 and 1, the other's 2 and 3.
        IReadOnlyList<int> seedOwns = [0, 1], otherOwns = [2, 3];
        using var seedPlacement = new KafkaShardPlacement(seed.System, () => seedOwns, UserPartitions, KafkaPartitions, TextWriter.Null);
        using var otherPlacement = new KafkaShardPlacement(other.System, () => otherOwns, UserPartitions, KafkaPartitions, TextWriter.Null);
        await Probe.UntilAsync(() => Task.FromResult(seedPlacement.Placements > 0 && otherPlacement.Placements > 0), TimeSpan.FromSeconds(30), () => "no placement recorded");

        // User partition p holds the users of Kafka partition p % 4: 0, 1, 4, 5 belong on the seed node.
        await AwaitPlacementAsync(seed, other, [0, 1, 4, 5], [2, 3, 6, 7]);

        // A rebalance of the group: Kafka partition 1 goes to the other node; its user partitions 1 and 5 follow.
        otherOwns = [1, 2, 3];
        seedOwns = [0];
        await AwaitPlacementAsync(seed, other, [0, 4], [1, 2, 3, 5, 6, 7]);
    }

    /// <summary>Wakes every partition (from the seed node) until each is hosted where expected.</summary>
    private async Task AwaitPlacementAsync(EngineHost seed, EngineHost other, int[] onSeed, int[] onOther)
    {
        string last = "";
        await Probe.UntilAsync(async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, UserPartitions).Select(p => WakeAsync(seed, p)));
            var hereSeed = await HostedAsync(seed);
            var hereOther = await HostedAsync(other);
            last = $"seed node hosts [{string.Join(",", hereSeed)}], other node [{string.Join(",", hereOther)}]";
            return hereSeed.SequenceEqual(onSeed) && hereOther.SequenceEqual(onOther);
        }, TimeSpan.FromSeconds(60), () => $"expected seed [{string.Join(",", onSeed)}], other [{string.Join(",", onOther)}]; last seen: {last}");
        output.WriteLine(last);
    }

    /// <summary>Asks a partition (starting it where sharding allocates it); a message sent while its shard is handed over is dropped by sharding, so no answer is fine.</summary>
    private static async Task WakeAsync(EngineHost host, int partition)
    {
        try
        {
            await host.Partitions.Ask<PartitionStats>(new GetPartitionStats(partition), TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        }
        catch (AskTimeoutException)
        {
            // handed over meanwhile: the next probe asks again
        }
    }

    private static async Task<int[]> HostedAsync(EngineHost host)
    {
        var state = await host.Partitions.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        return state.Shards.SelectMany(s => s.EntityIds).Select(id => int.Parse(id, CultureInfo.InvariantCulture)).Order().ToArray();
    }
}
