using Akka.Configuration;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Persistence;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Engine.Hosting;

/// <summary>The engine-level settings, each from its own HOCON block.</summary>
public sealed record EngineSettings(
    StoreSettings Store,
    EntityRoutingSettings Routing,
    UserPartitionSettings Entities,
    int Shards,
    TimeSpan ClusterJoinTimeout)
{
    public static EngineSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.cluster");
        var settings = new EngineSettings(
            StoreSettings.Create(config),
            EntityRoutingSettings.Create(config),
            UserPartitionSettings.Create(config),
            r.Int("shards", 1, 10000),
            r.Duration("join-timeout"));
        CheckAskOutlastsStore(settings);
        return settings;
    }

    /// <summary>
    /// A partition answers once its write is done, retries included: an ask timeout within the store's bound on a
    /// write would end a store outage as an ask timeout instead of the store's own error (exit code 3).
    /// </summary>
    private static void CheckAskOutlastsStore(EngineSettings settings)
    {
        if (settings.Store.Kind == "memory") return;
        string key = $"streamdetect.store.{settings.Store.Kind}.journal.circuit-breaker.call-timeout";
        var bound = settings.Store.Journal.HasPath("circuit-breaker.call-timeout")
            ? settings.Store.Journal.GetTimeSpan("circuit-breaker.call-timeout")
            : settings.Store.Retry.GiveUpAfter;
        if (!settings.Store.Journal.HasPath("circuit-breaker.call-timeout")) key = "streamdetect.store.retry.give-up-after";
        if (settings.Routing.AskTimeout <= bound)
            throw new SettingsException("streamdetect.routing.ask-timeout",
                $"must be longer than {key} ({bound.TotalSeconds:0} s): a partition answers only when its write is done, retries included");
    }
}
