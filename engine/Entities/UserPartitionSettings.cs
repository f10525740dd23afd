using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Entities;

/// <summary>HOCON block <c>streamdetect.entities</c>: per-user state kept by the user partitions.</summary>
public sealed record UserPartitionSettings
{
    /// <summary>Events kept per user in the window the models see.</summary>
    public int WindowSize { get; init; } = 32;

    /// <summary>A partition snapshots its whole state after this many new events (then drops older journal rows).</summary>
    public int SnapshotEvery { get; init; } = 50_000;

    /// <summary>Whether events persisted but not confirmed scored when the engine died are scored again after recovery.</summary>
    public bool RescoreAfterCrash { get; init; } = true;

    /// <summary>How long scoring confirmations and alert deliveries may wait for a journal row before a partition writes one for them alone.</summary>
    public TimeSpan ScoredMarksFlush { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// New events one scoring request carries at most; a user with more unscored events gets the rest in the
    /// next request, once this one is settled. Bounds the size of a request (and of a message between nodes).
    /// </summary>
    public int MaxRequestEvents { get; init; } = 256;

    public static UserPartitionSettings Default { get; } = new();

    public static UserPartitionSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.entities");
        return new UserPartitionSettings
        {
            WindowSize = r.Int("window-size", 2, 1024),
            SnapshotEvery = r.Int("snapshot-every", 1, int.MaxValue),
            RescoreAfterCrash = r.Bool("rescore-after-crash"),
            ScoredMarksFlush = r.Duration("scored-marks-flush"),
            MaxRequestEvents = r.Int("max-request-events", 1, 1 << 20),
        };
    }
}
