using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Cluster.Sharding.External;
using Akka.Configuration;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Persistence;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// The running engine's actor side: an ActorSystem configured from HOCON, a cluster (by default a
/// single node that joins itself, so that more nodes is configuration only: set
/// akka.cluster.seed-nodes), and the shard region of user partitions.
/// </summary>
public sealed class EngineHost : IAsyncDisposable
{
    private readonly DataDirectoryLock? _dataLock;

    private EngineHost(ActorSystem system, IActorRef partitions, EngineSettings settings, DataDirectoryLock? dataLock)
    {
        System = system;
        Partitions = partitions;
        Settings = settings;
        _dataLock = dataLock;
    }

    public ActorSystem System { get; }

    /// <summary>The shard region (or local router) that delivers partition messages to their entity.</summary>
    public IActorRef Partitions { get; }

    public EngineSettings Settings { get; }

    /// <summary>The sharding type name of the user partitions (also the key of their external shard locations, <see cref="KafkaShardPlacement"/>).</summary>
    public const string PartitionTypeName = "user-partition";

    /// <summary>Starts the engine. With <paramref name="cluster"/> false the partitions run on this node without cluster (offline tools).</summary>
    /// <param name="colocateWithKafka">
    /// Place user partitions where the consumers hold their Kafka partitions (<c>streamdetect.routing.colocate</c> on a Kafka run):
    /// each partition is its own shard, allocated by Akka.Cluster.Sharding's external allocation from the locations
    /// <see cref="KafkaShardPlacement"/> records. Every node of a cluster must agree.
    /// </param>
    public static async Task<EngineHost> StartAsync(Config config, bool cluster = true, CancellationToken cancellation = default, bool colocateWithKafka = false)
    {
        var settings = EngineSettings.Create(config);
        // One run at a time on a data directory (a second one is refused, exit code 5), before anything in it is read or written.
        var dataLock = settings.Store.Kind == "memory" ? null : DataDirectoryLock.Acquire(settings.Store.DataDirectory, Console.Error);
        try
        {
            return await StartAsync(config, settings, dataLock, cluster, colocateWithKafka, cancellation);
        }
        catch
        {
            dataLock?.Dispose();
            throw;
        }
    }

    private static async Task<EngineHost> StartAsync(Config config, EngineSettings settings, DataDirectoryLock? dataLock, bool cluster, bool colocateWithKafka,
        CancellationToken cancellation)
    {
        if (settings.Store.Kind != "memory")
            DataDirectoryMarker.EnsureCompatible(settings.Store.DataDirectory, settings.Routing.Partitions, settings.Store.Kind, settings.Routing.Colocate);

        var (full, setup) = PersistenceConfig.Build(settings.Store, config);
        string store = StoreDescription.Of(settings.Store);
        if (!cluster)
            full = ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(full);
        var bootstrap = BootstrapSetup.Create().WithConfig(full);
        ActorSystemSetup systemSetup = setup is null ? ActorSystemSetup.Create(bootstrap) : bootstrap.And(setup);
        // Engines sharing a PostgreSQL schema make its tables one at a time (PostgresTableCreationLock).
        var tablesLock = settings.Store.Kind == "postgres"
            ? PostgresTableCreationLock.Acquire(settings.Store.PostgresConnectionString, settings.Store.PostgresSchema, settings.Store.Retry)
            : null;
        ActorSystem system;
        try
        {
            system = ActorSystem.Create("streamdetect", systemSetup);
        }
        catch
        {
            tablesLock?.Dispose();
            throw;
        }

        try
        {
            if (tablesLock is not null)
            {
                using (tablesLock)
                    await PostgresTableCreationLock.WaitForPluginsAsync(system, store, settings.Store.Retry.GiveUpAfter + TimeSpan.FromSeconds(30), cancellation);
            }
            IActorRef partitions;
            if (cluster)
            {
                var node = Cluster.Get(system);
                // The external shard locations live in distributed data: started before the node joins, so that it never
                // receives the replicators' gossip before it can read it.
                if (colocateWithKafka) ExternalShardAllocation.Get(system).ClientFor(PartitionTypeName);
                var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                node.RegisterOnMemberUp(() => up.TrySetResult());
                if (full.GetStringList("akka.cluster.seed-nodes").Count == 0) node.Join(node.SelfAddress);
                await up.Task.WaitAsync(settings.ClusterJoinTimeout, cancellation);

                var sharding = ClusterSharding.Get(system);
                var shardingSettings = ClusterShardingSettings.Create(system);
                Props PartitionProps(string entityId) =>
                    UserPartition.Props(int.Parse(entityId, global::System.Globalization.CultureInfo.InvariantCulture), settings.Entities, store);
                // StopPartition, not PoisonPill: a partition moved by a rebalance finishes its journal writes first.
                partitions = colocateWithKafka
                    ? await sharding.StartAsync(PartitionTypeName, PartitionProps, shardingSettings,
                        new UserPartitionMessageExtractor(settings.Routing.Partitions),
                        new ReachableShardAllocationStrategy(new ExternalShardAllocationStrategy(system, PartitionTypeName), ReachableShardAllocationStrategy.ReachableIn(node),
                            ReachableShardAllocationStrategy.SettledIn(node)),
                        StopPartition.Instance)
                    : await sharding.StartAsync(PartitionTypeName, PartitionProps, shardingSettings,
                        new UserPartitionMessageExtractor(settings.Shards),
                        sharding.DefaultShardAllocationStrategy(shardingSettings), StopPartition.Instance);
            }
            else
            {
                partitions = system.ActorOf(LocalPartitions.Props(settings.Entities, store), "partitions");
            }
            return new EngineHost(system, partitions, settings, dataLock);
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    /// <summary>Stats of every partition (activates passivated ones); each ask is sent again after streamdetect.routing.resend-after (a partition's node may have died).</summary>
    /// <param name="flushScoredMarks">Journal the partitions' scoring confirmations first (a run that ended cleanly).</param>
    public async Task<IReadOnlyList<PartitionStats>> PartitionStatsAsync(TimeSpan timeout, bool flushScoredMarks = false)
    {
        var asks = Enumerable.Range(0, Settings.Routing.Partitions)
            .Select(p => PartitionAsk.WithResendAsync<PartitionStats>(Partitions, flushScoredMarks ? new FlushScoredMarks(p) : new GetPartitionStats(p), timeout,
                Settings.Routing.ResendAfter));
        return await Task.WhenAll(asks);
    }

    /// <summary>
    /// What every partition holds from before the engine last died (recovers every partition): the scoring
    /// requests of users whose persisted events were never confirmed scored, and the alerts journaled but
    /// never confirmed delivered. Follow-ups of those users go to <paramref name="scoringInbox"/>.
    /// </summary>
    public async Task<IReadOnlyList<PartitionReply>> TakeRescoringAsync(IActorRef? scoringInbox, TimeSpan timeout)
    {
        var asks = Enumerable.Range(0, Settings.Routing.Partitions)
            .Select(p => Partitions.Ask<PartitionReply>(new TakeRescoring(p, scoringInbox), timeout));
        return await Task.WhenAll(asks);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (System.Settings.ProviderClass.Contains("Cluster", StringComparison.Ordinal))
            {
                await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
            }
            else
            {
                await System.Terminate();
            }
        }
        finally
        {
            _dataLock?.Dispose();
        }
    }
}
