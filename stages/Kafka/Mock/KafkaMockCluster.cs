using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace StreamDetect.Stages.Kafka.Mock;

/// <summary>
/// librdkafka's in-process mock Kafka cluster: real brokers on loopback TCP ports that speak the Kafka
/// protocol (produce, fetch, metadata, consumer groups, offset commits, idempotent producers), for tests
/// and for `streamdetect kafka-mock`. Any client — Confluent.Kafka, kcat, the engine — connects to
/// <see cref="BootstrapServers"/>.
/// </summary>
/// <remarks>
/// Known differences from real Kafka: the Admin API is mostly missing (create topics with
/// <see cref="CreateTopic"/>, delete records with <see cref="DeleteRecords"/>; never call ListConsumerGroups
/// against it, it crashes the client), and commits are rejected while a group rebalances.
/// Retention (librdkafka's rdkafka_mock.c, fixed when a partition is created, with no setting or API to
/// change it): each partition keeps at most <see cref="RetainedBytesPerPartition"/> bytes of record batches
/// and at most <see cref="RetainedBatchesPerPartition"/> batches; appending past either drops the oldest
/// whole batches (never the last one), and the log start moves past them, as Kafka's retention does.
/// </remarks>
public sealed class KafkaMockCluster : IDisposable
{
    private readonly object _gate = new();
    private IntPtr _owner; // the rd_kafka_t that owns the cluster; destroyed after it
    private IntPtr _cluster;

    private KafkaMockCluster(IntPtr owner, IntPtr cluster, int brokerCount)
    {
        _owner = owner;
        _cluster = cluster;
        BrokerCount = brokerCount;
        BootstrapServers = Marshal.PtrToStringUTF8(LibrdkafkaNative.MockClusterBootstraps(cluster))
            ?? throw new InvalidOperationException("mock cluster has no bootstrap servers");
    }

    /// <summary>Bytes of record batches a mock partition keeps (5 MiB); the oldest batches go first.</summary>
    public const long RetainedBytesPerPartition = 5L * 1024 * 1024;

    /// <summary>Record batches a mock partition keeps (100,000); the oldest go first.</summary>
    public const int RetainedBatchesPerPartition = 100_000;

    /// <summary>Comma-separated host:port list of the mock brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Number of brokers; broker ids are 1..BrokerCount.</summary>
    public int BrokerCount { get; }

    /// <summary>The librdkafka file the mock runs in (the same one Confluent.Kafka uses).</summary>
    public static string? LibraryPath => LibrdkafkaNative.LoadedPath;

    /// <summary>Starts a mock cluster with <paramref name="brokers"/> brokers.</summary>
    public static KafkaMockCluster Start(int brokers = 3)
    {
        if (brokers is < 1 or > 32) throw new ArgumentOutOfRangeException(nameof(brokers), brokers, "1 to 32 brokers");
        LibrdkafkaNative.EnsureLoaded();

        byte[] error = new byte[512];
        IntPtr conf = LibrdkafkaNative.ConfNew();
        // The owner handle never talks to a broker; keep it quiet.
        Set(conf, "log_level", "3", error);
        Set(conf, "client.id", "streamdetect-mock-owner", error);
        IntPtr rk = LibrdkafkaNative.KafkaNew(LibrdkafkaNative.ProducerType, conf, error, (UIntPtr)error.Length);
        if (rk == IntPtr.Zero)
        {
            LibrdkafkaNative.ConfDestroy(conf);
            throw new InvalidOperationException($"rd_kafka_new failed: {Text(error)}");
        }
        IntPtr cluster = LibrdkafkaNative.MockClusterNew(rk, brokers);
        if (cluster == IntPtr.Zero)
        {
            LibrdkafkaNative.KafkaDestroy(rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        return new KafkaMockCluster(rk, cluster, brokers);
    }

    /// <summary>Creates a topic (the mock's Admin API cannot).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        if (partitions < 1) throw new ArgumentOutOfRangeException(nameof(partitions), partitions, "at least 1");
        if (replicationFactor < 1 || replicationFactor > BrokerCount)
            throw new ArgumentOutOfRangeException(nameof(replicationFactor), replicationFactor, $"1 to {BrokerCount}");
        Check(LibrdkafkaNative.MockTopicCreate(Cluster, topic, partitions, replicationFactor), $"create topic {topic}");
    }

    /// <summary>Deletes the records of a partition below <paramref name="beforeOffset"/>: its log start moves there, as after retention.</summary>
    public void DeleteRecords(string topic, int partition, long beforeOffset) =>
        Check(LibrdkafkaNative.MockPartitionDeleteRecords(Cluster, topic, partition, beforeOffset), $"delete records of {topic}[{partition}] before offset {beforeOffset}");

    /// <summary>Moves a partition's leadership to <paramref name="brokerId"/>.</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        Check(LibrdkafkaNative.MockPartitionSetLeader(Cluster, topic, partition, brokerId), $"set leader of {topic}[{partition}]");

    /// <summary>Takes a broker down: its connections close and new ones are refused.</summary>
    public void SetBrokerDown(int brokerId) =>
        Check(LibrdkafkaNative.MockBrokerSetDown(Cluster, brokerId), $"set broker {brokerId} down");

    /// <summary>Brings a broker back up.</summary>
    public void SetBrokerUp(int brokerId) =>
        Check(LibrdkafkaNative.MockBrokerSetUp(Cluster, brokerId), $"set broker {brokerId} up");

    /// <summary>The next requests of kind <paramref name="api"/> (any broker) fail with these errors, in order.</summary>
    public void PushRequestErrors(KafkaApiKey api, params ErrorCode[] errors)
    {
        if (errors.Length == 0) return;
        int[] codes = errors.Select(e => (int)e).ToArray();
        LibrdkafkaNative.MockPushRequestErrorsArray(Cluster, (short)api, (UIntPtr)codes.Length, codes);
    }

    /// <summary>Drops errors pushed for <paramref name="api"/> that have not fired yet.</summary>
    public void ClearRequestErrors(KafkaApiKey api) => LibrdkafkaNative.MockClearRequestErrors(Cluster, (short)api);

    /// <summary>From now on the cluster records every request it receives (see <see cref="RequestCount"/>); earlier ones are forgotten.</summary>
    public void StartRequestTracking()
    {
        LibrdkafkaNative.MockStartRequestTracking(Cluster);
        LibrdkafkaNative.MockClearRequests(Cluster);
    }

    /// <summary>
    /// Requests of kind <paramref name="api"/> received (from any client, to any broker) since <see cref="StartRequestTracking"/>,
    /// those answered with a pushed error included: more than the errors pushed means every one of them was answered.
    /// </summary>
    public int RequestCount(KafkaApiKey api)
    {
        IntPtr requests = LibrdkafkaNative.MockGetRequests(Cluster, out UIntPtr count);
        if (requests == IntPtr.Zero) return 0;
        try
        {
            int matching = 0;
            for (int i = 0; i < (int)count; i++)
                if (LibrdkafkaNative.MockRequestApiKey(Marshal.ReadIntPtr(requests, i * IntPtr.Size)) == (short)api) matching++;
            return matching;
        }
        finally
        {
            LibrdkafkaNative.MockRequestDestroyArray(requests, count);
        }
    }

    /// <summary>
    /// How long a new consumer group waits for more members before its first assignment (real Kafka's
    /// group.initial.rebalance.delay.ms; the mock's default is seconds — set it low in tests).
    /// </summary>
    public void SetGroupInitialRebalanceDelay(TimeSpan delay) =>
        LibrdkafkaNative.MockGroupInitialRebalanceDelayMs(Cluster, checked((int)delay.TotalMilliseconds));

    /// <summary>Destroys the cluster, then its owning client handle (never the other way round).</summary>
    public void Dispose()
    {
        IntPtr cluster, owner;
        lock (_gate)
        {
            cluster = _cluster;
            owner = _owner;
            _cluster = IntPtr.Zero;
            _owner = IntPtr.Zero;
        }
        if (cluster != IntPtr.Zero) LibrdkafkaNative.MockClusterDestroy(cluster);
        if (owner != IntPtr.Zero) LibrdkafkaNative.KafkaDestroy(owner);
    }

    private IntPtr Cluster
    {
        get
        {
            IntPtr cluster = _cluster;
            ObjectDisposedException.ThrowIf(cluster == IntPtr.Zero, this);
            return cluster;
        }
    }

    private static void Set(IntPtr conf, string name, string value, byte[] error)
    {
        if (LibrdkafkaNative.ConfSet(conf, name, value, error, (UIntPtr)error.Length) != LibrdkafkaNative.ConfOk)
        {
            LibrdkafkaNative.ConfDestroy(conf);
            throw new InvalidOperationException($"rd_kafka_conf_set {name}: {Text(error)}");
        }
    }

    private static void Check(int err, string what)
    {
        if (err != 0) throw new InvalidOperationException($"mock cluster: {what}: {LibrdkafkaNative.ErrorText(err)}");
    }

    private static string Text(byte[] buffer)
    {
        int end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end);
    }
}
