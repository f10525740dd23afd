using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Scoring;

/// <summary>HOCON block <c>streamdetect.scoring</c>: the scorer stage.</summary>
public sealed record ScorerSettings
{
    /// <summary>Threads TorchSharp may use inside one forward pass (0 = half the cores, at least 1).</summary>
    public int TorchThreads { get; init; }

    /// <summary>
    /// Events admitted for scoring and not yet settled, at most: the in-flight bound of a scoring run (events
    /// waiting in partitions for their user's request included). The source slows down when it is reached.
    /// </summary>
    public long MaxUnsettledEvents { get; init; } = 65_536;

    /// <summary>Partition settlements (one ask per partition and scored batch) awaited at once.</summary>
    public int SettleParallelism { get; init; } = 64;

    public static ScorerSettings Default { get; } = new();

    public int EffectiveTorchThreads => TorchThreads > 0 ? TorchThreads : Math.Max(1, Environment.ProcessorCount / 2);

    public static ScorerSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.scoring");
        return new ScorerSettings
        {
            TorchThreads = r.Int("torch-threads", 0, 1024),
            SettleParallelism = r.Int("settle-parallelism", 1, 4096),
            MaxUnsettledEvents = r.Long("max-unsettled-events", 1, 1L << 40),
        };
    }
}
