using System.Reflection;
using System.Runtime.InteropServices;

namespace StreamDetect.Stages.Kafka.Mock;

/// <summary>
/// P/Invoke declarations for the parts of librdkafka that Confluent.Kafka does not wrap: creating a
/// bare client handle and driving its in-process mock cluster (rdkafka_mock.h).
/// </summary>
/// <remarks>
/// These calls must reach the very library file Confluent.Kafka loaded, or the mock cluster and the
/// clients would live in two copies of librdkafka. On Debian 12 the package's default librdkafka.so
/// needs libsasl2.so.3, which is absent, so Confluent falls back to centos8-librdkafka.so; a plain
/// <c>DllImport("librdkafka")</c> would fail or pick the wrong file. So the imports name a private
/// library name, and a resolver maps it to the file that is already mapped into this process.
/// </remarks>
internal static class LibrdkafkaNative
{
    private const string Library = "streamdetect-librdkafka";

    public const int ProducerType = 0; // RD_KAFKA_PRODUCER
    public const int ConfOk = 0; // RD_KAFKA_CONF_OK

    private static readonly object Gate = new();
    private static IntPtr _handle;
    private static bool _resolverSet;

    /// <summary>The path of the librdkafka file loaded into this process (after <see cref="EnsureLoaded"/>).</summary>
    public static string? LoadedPath { get; private set; }

    /// <summary>
    /// Makes Confluent.Kafka load librdkafka (its own choice of file), then binds our imports to that file.
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return;
            Confluent.Kafka.Library.Load();
            string? path = FindMappedLibrdkafka();
            _handle = path is not null
                ? NativeLibrary.Load(path)
                : NativeLibrary.Load("librdkafka", typeof(Confluent.Kafka.Library).Assembly, DllImportSearchPath.SafeDirectories);
            LoadedPath = path ?? "librdkafka";
            if (!_resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(LibrdkafkaNative).Assembly, Resolve);
                _resolverSet = true;
            }
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == Library ? _handle : IntPtr.Zero;

    /// <summary>Reads /proc/self/maps for the librdkafka file that is mapped (Linux); null elsewhere.</summary>
    private static string? FindMappedLibrdkafka()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return null;
        foreach (string line in File.ReadLines(maps))
        {
            int slash = line.IndexOf('/');
            if (slash < 0) continue;
            string path = line[slash..].Trim();
            string name = Path.GetFileName(path);
            if (name.Contains("librdkafka", StringComparison.Ordinal) && name.Contains(".so", StringComparison.Ordinal))
                return path;
        }
        return null;
    }

    [DllImport(Library, EntryPoint = "rd_kafka_conf_new")]
    public static extern IntPtr ConfNew();

    [DllImport(Library, EntryPoint = "rd_kafka_conf_set")]
    public static extern int ConfSet(IntPtr conf, [MarshalAs(UnmanagedType.LPUTF8Str)] string name,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string value, byte[] errstr, UIntPtr errstrSize);

    [DllImport(Library, EntryPoint = "rd_kafka_conf_destroy")]
    public static extern void ConfDestroy(IntPtr conf);

    /// <summary>Takes ownership of <paramref name="conf"/> on success only.</summary>
    [DllImport(Library, EntryPoint = "rd_kafka_new")]
    public static extern IntPtr KafkaNew(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [DllImport(Library, EntryPoint = "rd_kafka_destroy")]
    public static extern void KafkaDestroy(IntPtr rk);

    [DllImport(Library, EntryPoint = "rd_kafka_err2str")]
    public static extern IntPtr ErrorToString(int err);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_cluster_new")]
    public static extern IntPtr MockClusterNew(IntPtr rk, int brokerCount);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    public static extern void MockClusterDestroy(IntPtr cluster);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    public static extern IntPtr MockClusterBootstraps(IntPtr cluster);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_topic_create")]
    public static extern int MockTopicCreate(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic,
        int partitionCount, int replicationFactor);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_partition_set_leader")]
    public static extern int MockPartitionSetLeader(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic,
        int partition, int brokerId);

    /// <summary>Deletes a partition's records below <paramref name="beforeOffset"/> (the log start moves there), as retention or DeleteRecords would.</summary>
    [DllImport(Library, EntryPoint = "rd_kafka_mock_partition_delete_records")]
    public static extern int MockPartitionDeleteRecords(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic,
        int partition, long beforeOffset);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_broker_set_down")]
    public static extern int MockBrokerSetDown(IntPtr cluster, int brokerId);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_broker_set_up")]
    public static extern int MockBrokerSetUp(IntPtr cluster, int brokerId);

    /// <summary>The array form; the varargs <c>rd_kafka_mock_push_request_errors</c> cannot be P/Invoked.</summary>
    [DllImport(Library, EntryPoint = "rd_kafka_mock_push_request_errors_array")]
    public static extern void MockPushRequestErrorsArray(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_clear_request_errors")]
    public static extern void MockClearRequestErrors(IntPtr cluster, short apiKey);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    public static extern void MockGroupInitialRebalanceDelayMs(IntPtr cluster, int delayMs);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_start_request_tracking")]
    public static extern void MockStartRequestTracking(IntPtr cluster);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_clear_requests")]
    public static extern void MockClearRequests(IntPtr cluster);

    /// <summary>The requests received since tracking started: an array of <paramref name="count"/> request handles, freed with <see cref="MockRequestDestroyArray"/>.</summary>
    [DllImport(Library, EntryPoint = "rd_kafka_mock_get_requests")]
    public static extern IntPtr MockGetRequests(IntPtr cluster, out UIntPtr count);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_request_api_key")]
    public static extern short MockRequestApiKey(IntPtr request);

    [DllImport(Library, EntryPoint = "rd_kafka_mock_request_destroy_array")]
    public static extern void MockRequestDestroyArray(IntPtr requests, UIntPtr count);

    public static string ErrorText(int err) => Marshal.PtrToStringUTF8(ErrorToString(err)) ?? $"error {err}";
}
