using Akka.Configuration;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Pipeline;

/// <summary>The settings the scoring loop is built from (<c>streamdetect.scoring</c>, <c>streamdetect.routing</c>).</summary>
/// <param name="Partitions">User partitions (to address a user's partition).</param>
/// <param name="AskTimeout">How long a settlement may take before the stream fails.</param>
/// <param name="DeliveryFlush">How long confirmed deliveries are grouped before they are told to the partitions.</param>
public sealed record ScoringPipelineSettings(MicroBatcherSettings Batcher, int SettleParallelism, int Partitions, TimeSpan AskTimeout, TimeSpan DeliveryFlush)
{
    /// <summary>Users are hashed to partitions by the Kafka key hash (<c>streamdetect.routing.colocate</c>).</summary>
    public bool KafkaKeyed { get; init; }

    /// <summary>
    /// A settlement not answered within this is sent again (<c>streamdetect.routing.resend-after</c>; zero: sent once): one
    /// to a partition whose node died is lost, and its next incarnation answers the copy (stale: it scores those events again).
    /// </summary>
    public TimeSpan ResendAfter { get; init; }

    public static ScoringPipelineSettings Create(Config config)
    {
        var routing = EntityRoutingSettings.Create(config);
        return new ScoringPipelineSettings(MicroBatcherSettings.Create(config), ScorerSettings.Create(config).SettleParallelism,
            routing.Partitions, routing.AskTimeout, TimeSpan.FromMilliseconds(100)) { KafkaKeyed = routing.Colocate, ResendAfter = routing.ResendAfter };
    }
}
