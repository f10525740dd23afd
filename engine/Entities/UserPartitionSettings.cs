using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Sessions;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Entities;

/// <summary>HOCON block <c>streamdetect.entities</c>: per-user state kept by the user partitions.</summary>
public sealed record UserPartitionSettings
{
    /// <summary>Events kept per user in the window the models see.</summary>
    public int WindowSize { get; init; } = 32;

    /// <summary>A partition snapshots its whole state after this many new events (then drops older journal rows).</summary>
    public int SnapshotEvery { get; init; } = 50_000;

    /// <summary>
    /// At the end of a stream (its final flush), a partition with at least this many events applied since its last
    /// snapshot snapshots before it answers, so the next start recovers from the snapshot instead of replaying them;
    /// 0: never (recovery replays up to <see cref="SnapshotEvery"/> events per partition).
    /// </summary>
    public int SnapshotAtEnd { get; init; } = 1000;

    /// <summary>Whether events persisted but not confirmed scored when the engine died are scored again after recovery.</summary>
    public bool RescoreAfterCrash { get; init; } = true;

    /// <summary>How long scoring confirmations and alert deliveries may wait for a journal row before a partition writes one for them alone.</summary>
    public TimeSpan ScoredMarksFlush { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// New events one scoring request carries at most; a user with more unscored events gets the rest in the
    /// next request, once this one is settled. Bounds the size of a request (and of a message between nodes).
    /// </summary>
    public int MaxRequestEvents { get; init; } = 256;

    /// <summary>When a user's session ends (HOCON <c>streamdetect.sessions</c>); README "Sessions in the stream".</summary>
    public SessionSettings Sessions { get; init; } = SessionSettings.Default;

    /// <summary>
    /// What an entity is (<c>streamdetect.entities.key</c>): <c>user</c> (the event's userId) or <c>session</c> (the
    /// event's session field: log-style data, one sequence per id). Applied where events are parsed
    /// (<see cref="Stages.Validation.ValidationSettings.KeyBySession"/>); kept here for the summary.
    /// </summary>
    public string EntityKey { get; init; } = "user";

    public static UserPartitionSettings Default { get; } = new();

    public static UserPartitionSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.entities");
        return new UserPartitionSettings
        {
            WindowSize = r.Int("window-size", 2, 1024),
            SnapshotEvery = r.Int("snapshot-every", 1, int.MaxValue),
            SnapshotAtEnd = r.Int("snapshot-at-end", 0, int.MaxValue),
            RescoreAfterCrash = r.Bool("rescore-after-crash"),
            ScoredMarksFlush = r.Duration("scored-marks-flush"),
            MaxRequestEvents = r.Int("max-request-events", 1, 1 << 20),
            Sessions = SessionSettingsReader.Read(config),
            EntityKey = r.OneOf("key", "user", "session"),
        };
    }
}
