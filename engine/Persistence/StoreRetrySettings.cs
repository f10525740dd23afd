using System.Globalization;
using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// HOCON block <c>streamdetect.store.retry</c>: how long the journal and the snapshot store keep retrying a
/// write the store refused or lost (PostgreSQL restarting, a full disk, a read-only SQLite file) before the
/// run stops with exit code 3. Meanwhile the partitions wait for their writes and the stream stops pulling
/// (its in-flight bound, <c>streamdetect.routing.parallelism</c>), so nothing is read that cannot be kept.
/// </summary>
public sealed record StoreRetrySettings
{
    /// <summary>Wait before the first retry; each next wait doubles, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A write that has failed for this long (since its first attempt) is given up: the run stops.</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromSeconds(60);

    public static StoreRetrySettings Default { get; } = new();

    public static StoreRetrySettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.store.retry");
        var settings = new StoreRetrySettings
        {
            MinBackoff = r.Duration("min-backoff"),
            MaxBackoff = r.Duration("max-backoff"),
            GiveUpAfter = r.Duration("give-up-after"),
        };
        if (settings.MaxBackoff < settings.MinBackoff)
            throw new SettingsException(r.Key("max-backoff"), $"must be at least {r.Key("min-backoff")} ({settings.MinBackoff.TotalMilliseconds:0} ms)");
        return settings;
    }

    /// <summary>The wait before retry number <paramref name="retry"/> (1 = the first).</summary>
    public TimeSpan Backoff(int retry)
    {
        double ms = MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Clamp(retry - 1, 0, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxBackoff.TotalMilliseconds));
    }

    /// <summary>The block the engine places in the journal and snapshot-store plugin configuration (read back by <see cref="FromPlugin"/>).</summary>
    public string ToPluginHocon() => string.Create(CultureInfo.InvariantCulture,
        $"store-retry {{ min-backoff = {MinBackoff.TotalMilliseconds:0}ms, max-backoff = {MaxBackoff.TotalMilliseconds:0}ms, give-up-after = {GiveUpAfter.TotalMilliseconds:0}ms }}");

    /// <summary>Reads the block <see cref="ToPluginHocon"/> wrote into a plugin's configuration; the defaults when it is absent.</summary>
    public static StoreRetrySettings FromPlugin(Config plugin)
    {
        if (!plugin.HasPath("store-retry")) return Default;
        var block = plugin.GetConfig("store-retry");
        return new StoreRetrySettings
        {
            MinBackoff = block.GetTimeSpan("min-backoff", Default.MinBackoff),
            MaxBackoff = block.GetTimeSpan("max-backoff", Default.MaxBackoff),
            GiveUpAfter = block.GetTimeSpan("give-up-after", Default.GiveUpAfter),
        };
    }
}
