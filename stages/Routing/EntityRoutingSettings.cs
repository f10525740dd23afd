using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Routing;

/// <summary>HOCON block <c>streamdetect.routing</c>: how the stream hands events to the user partitions.</summary>
public sealed record EntityRoutingSettings
{
    /// <summary>Number of user partitions (persistent entities). Fixed for a data directory.</summary>
    public int Partitions { get; init; } = 64;

    /// <summary>A micro-batch closes at this many events...</summary>
    public int MaxBatch { get; init; } = 4096;

    /// <summary>...or after this long, whichever comes first.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Partition batches awaiting persistence at once (the in-flight bound of the routing stage).</summary>
    public int Parallelism { get; init; } = 128;

    /// <summary>How long a partition may take to persist and answer before the stream fails.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A batch not answered within this long is sent again (until <see cref="AskTimeout"/>): a partition on a node that
    /// died never answers, and its new home recognises the events it already has. Zero: never sent again.
    /// </summary>
    public TimeSpan ResendAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// At most one batch of this stream awaits each partition: the next one is sent once it is answered. A partition drops
    /// events at or below the highest source position it persisted, so a resent batch must not arrive after a later one
    /// (a cluster that can lose a node sets this; one process never loses a batch).
    /// </summary>
    public bool OnePerPartition { get; init; }

    /// <summary>
    /// Users are hashed to partitions as Kafka's default partitioner hashes a record keyed by the userId, so that a Kafka
    /// partition's users fall in known user partitions and those can be hosted next to the consumer reading it
    /// (<see cref="UserPartitioner"/>). Fixed for a data directory, like <see cref="Partitions"/>.
    /// </summary>
    public bool Colocate { get; init; }

    public static EntityRoutingSettings Default { get; } = new();

    public static EntityRoutingSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.routing");
        return new EntityRoutingSettings
        {
            Partitions = r.Int("partitions", 1, 65536),
            MaxBatch = r.Int("max-batch", 1, 1 << 20),
            MaxWait = r.Duration("max-wait"),
            Parallelism = r.Int("parallelism", 1, 4096),
            AskTimeout = r.Duration("ask-timeout"),
            ResendAfter = r.Duration("resend-after", allowZero: true),
            OnePerPartition = r.Bool("one-batch-per-partition"),
            Colocate = r.Bool("colocate"),
        };
    }
}
