using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Scoring;

/// <summary>HOCON block <c>streamdetect.scoring.batcher</c>: how scoring requests are grouped for the models.</summary>
public sealed record MicroBatcherSettings
{
    /// <summary>A batch is emitted when it holds this many requests...</summary>
    public int MaxBatch { get; init; } = 1024;

    /// <summary>...or when its first request has waited this long, whichever comes first.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);

    public static MicroBatcherSettings Default { get; } = new();

    public static MicroBatcherSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.scoring.batcher");
        return new MicroBatcherSettings
        {
            MaxBatch = r.Int("max-batch", 1, 1 << 20),
            MaxWait = r.Duration("max-wait"),
        };
    }
}
