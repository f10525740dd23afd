using Akka.Streams.Dsl;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Akka.Streams sources that subscribe to Kafka topics (the shape of Akka.Streams.Kafka's KafkaConsumer,
/// over Confluent.Kafka). Each materialization is one consumer in the settings' group.
/// </summary>
public static class KafkaConsumerSource
{
    /// <summary>
    /// At-least-once: emits each record with a <see cref="CommittableOffset"/>; nothing is committed until
    /// that offset reaches <see cref="KafkaCommitter.Sink"/>, and then only the contiguous prefix of done
    /// records per partition. After a crash or rebalance, records after the last commit are delivered again
    /// (the consumer of the stream de-duplicates by <see cref="Sources.SourcePosition"/>).
    /// Records of a partition are emitted in offset order. Stop/drain through the materialized <see cref="IKafkaControl"/>.
    /// </summary>
    public static Source<CommittableRecord, IKafkaControl> CommittableSource(KafkaConsumerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Source.FromGraph(new KafkaSourceStage(settings, committable: true));
    }

    /// <summary>
    /// At-most-once-ish, for advisory data: offsets are committed automatically in the background
    /// (librdkafka auto-commit) as records are read, whether or not they were processed. Use it where
    /// losing a few records on a crash is acceptable (feedback labels); never for events.
    /// </summary>
    public static Source<KafkaRecord, IKafkaControl> PlainSource(KafkaConsumerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Source.FromGraph(new KafkaSourceStage(settings, committable: false)).Select(r => r.Record);
    }
}
