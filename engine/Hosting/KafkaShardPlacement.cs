using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding.External;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// Keeps the user partitions next to the Kafka partitions this node's consumer owns
/// (<c>streamdetect.routing.colocate</c>): users are hashed as Kafka keys are (<see cref="UserPartitioner"/>), so
/// with K topic partitions dividing the P user partitions, user partition p holds exactly the users of Kafka partition
/// p % K. Whenever the consumer's assignment changes (a rebalance of its group: a node joins, leaves or dies), the
/// locations of the user partitions of its new Kafka partitions are set to this node in Akka.Cluster.Sharding's
/// external shard allocation (distributed data, last writer wins); the coordinator's next rebalance
/// (<c>akka.cluster.sharding.rebalance-interval</c>) hands them over, and a partition not yet placed is allocated to
/// the node that asks for it first. A placement that fails (distributed data not answering) is tried again on the
/// next check.
/// </summary>
public sealed class KafkaShardPlacement : IDisposable
{
    /// <summary>How often the consumer's assignment is looked at.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(200);

    private readonly ActorSystem _system;
    private readonly Func<IReadOnlyList<int>> _assignment;
    private readonly int _userPartitions;
    private readonly int _kafkaPartitions;
    private readonly TextWriter _log;
    private readonly CancellationTokenSource _stop = new();
    private long _placements;

    /// <param name="assignment">The Kafka partition numbers this node's consumer owns now (of the event topics).</param>
    /// <param name="kafkaPartitions">The event topics' partition count K (it divides <paramref name="userPartitions"/>).</param>
    public KafkaShardPlacement(ActorSystem system, Func<IReadOnlyList<int>> assignment, int userPartitions, int kafkaPartitions, TextWriter log)
    {
        if (kafkaPartitions <= 0 || userPartitions % kafkaPartitions != 0)
            throw new ArgumentException($"{kafkaPartitions} Kafka partitions do not divide {userPartitions} user partitions", nameof(kafkaPartitions));
        _system = system;
        _assignment = assignment;
        _userPartitions = userPartitions;
        _kafkaPartitions = kafkaPartitions;
        _log = log;
        _ = Task.Run(LoopAsync);
    }

    /// <summary>Assignments placed so far (each change of the consumer's assignment that owned partitions, once recorded).</summary>
    public long Placements => Interlocked.Read(ref _placements);

    /// <summary>
    /// Starts placing for a Kafka run when the mapping is known: the event topics share one partition count K that divides
    /// <c>streamdetect.routing.partitions</c>. Otherwise logs why and returns null (sharding's allocation stays as it is).
    /// </summary>
    /// <param name="topicPartitions">The partition count of each event topic.</param>
    public static KafkaShardPlacement? TryStart(ActorSystem system, Task<IKafkaControl> control, IReadOnlyDictionary<string, int> topicPartitions,
        int userPartitions, TextWriter log)
    {
        var counts = topicPartitions.Values.Distinct().ToList();
        if (counts.Count != 1 || userPartitions % counts[0] != 0)
        {
            log.WriteLine("warning: streamdetect.routing.colocate: the event topics' partition counts (" +
                          string.Join(", ", topicPartitions.Select(t => $"{t.Key}: {t.Value}")) +
                          $") are not one count dividing streamdetect.routing.partitions ({userPartitions}); user partitions are not placed next to their Kafka partitions");
            return null;
        }
        return new KafkaShardPlacement(system, () => control.IsCompletedSuccessfully ? control.Result.Assignment.Select(tp => tp.Partition.Value).ToList() : [],
            userPartitions, counts[0], log);
    }

    /// <summary>The partition count of each of <paramref name="consumer"/>'s topics, from the brokers' metadata (the topics exist: the run checked them).</summary>
    public static IReadOnlyDictionary<string, int> TopicPartitionCounts(KafkaConsumerSettings consumer)
    {
        var config = new Confluent.Kafka.AdminClientConfig();
        foreach (var (name, value) in consumer.Properties)
        {
            if (name.StartsWith("security.", StringComparison.Ordinal) || name.StartsWith("sasl.", StringComparison.Ordinal)
                || name.StartsWith("ssl.", StringComparison.Ordinal))
                config.Set(name, value);
        }
        config.BootstrapServers = consumer.BootstrapServers;
        using var admin = new Confluent.Kafka.AdminClientBuilder(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        var metadata = admin.GetMetadata(consumer.Faults.ConnectTimeout);
        return consumer.Topics.Distinct().ToDictionary(t => t, t => metadata.Topics.FirstOrDefault(m => m.Topic == t)?.Partitions.Count ?? 0);
    }

    /// <summary>The shard locations that put the user partitions of <paramref name="kafkaPartitions"/> on <paramref name="node"/>.</summary>
    public static IImmutableDictionary<string, Address> Locations(IEnumerable<int> kafkaPartitions, int userPartitions, int kafkaPartitionCount, Address node)
    {
        var owned = kafkaPartitions.ToHashSet();
        var locations = ImmutableDictionary.CreateBuilder<string, Address>();
        for (int p = 0; p < userPartitions; p++)
        {
            if (owned.Contains(UserPartitioner.KafkaPartitionOf(p, kafkaPartitionCount)))
                locations[p.ToString(System.Globalization.CultureInfo.InvariantCulture)] = node;
        }
        return locations.ToImmutable();
    }

    private async Task LoopAsync()
    {
        var client = ExternalShardAllocation.Get(_system).ClientFor(EngineHost.PartitionTypeName);
        var self = Cluster.Get(_system).SelfAddress;
        var placed = new SortedSet<int>();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var owned = new SortedSet<int>(_assignment());
                if (owned.Count > 0 && !owned.SetEquals(placed))
                {
                    var locations = Locations(owned, _userPartitions, _kafkaPartitions, self);
                    await client.UpdateShardLocations(locations);
                    placed = owned;
                    Interlocked.Increment(ref _placements);
                    _log.WriteLine($"colocate: this node's consumer owns Kafka partitions [{string.Join(",", owned)}] of {_kafkaPartitions}; " +
                                   $"user partitions [{string.Join(",", locations.Keys.Select(int.Parse).Order())}] are placed here");
                }
                await Task.Delay(CheckInterval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is ClientTimeoutException or AskTimeoutException or ObjectDisposedException or InvalidOperationException)
            {
                // distributed data did not answer, or the system is shutting down: the next check tries again
                try
                {
                    await Task.Delay(CheckInterval, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
    }
}
