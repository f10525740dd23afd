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
        return new EngineSettings(
            StoreSettings.Create(config),
            EntityRoutingSettings.Create(config),
            UserPartitionSettings.Create(config),
            r.Int("shards", 1, 10000),
            r.Duration("join-timeout"));
    }
}
