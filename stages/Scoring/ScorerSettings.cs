using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Scoring;

/// <summary>HOCON block <c>streamdetect.scoring</c>: the scorer stage.</summary>
public sealed record ScorerSettings
{
    /// <summary>Threads TorchSharp may use inside one forward pass (0 = half the cores, at least 1).</summary>
    public int TorchThreads { get; init; }

    /// <summary>Batches the state cache covers: a user's newest model state is kept this long in the scorer, so a
    /// user's next events are scored with it even before the entity has received it back.</summary>
    public int StateCacheBatches { get; init; } = 64;

    public static ScorerSettings Default { get; } = new();

    public int EffectiveTorchThreads => TorchThreads > 0 ? TorchThreads : Math.Max(1, Environment.ProcessorCount / 2);

    public static ScorerSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.scoring");
        return new ScorerSettings
        {
            TorchThreads = r.Int("torch-threads", 0, 1024),
            StateCacheBatches = r.Int("state-cache-batches", 1, 1_000_000),
        };
    }
}
