using System.Diagnostics.Metrics;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// The Kafka consumers' own instruments, in the engine's meter ("StreamDetect", exported when metrics are on;
/// recording costs nothing while nobody listens): <c>streamdetect.kafka.commit.duration</c>, the time of
/// each offset commit, by consumer group.
/// </summary>
internal static class KafkaConsumerInstruments
{
    private static readonly Meter Meter = new("StreamDetect");

    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("streamdetect.kafka.commit.duration", "s",
        "Time of one offset commit (until the group coordinator answered), by consumer group",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
}
