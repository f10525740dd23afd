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
        };
    }
}
