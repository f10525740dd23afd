using Akka.Streams.Dsl;

namespace StreamDetect.Stages.Kafka;

/// <summary>Commits processed Kafka records (the other end of <see cref="KafkaConsumerSource.CommittableSource"/>).</summary>
public static class KafkaCommitter
{
    /// <summary>
    /// A sink of processed records' offsets, in any order (across partitions, and within a partition when
    /// the main path and the dead-letter path finish at different times). Per partition it commits the
    /// highest offset below which every emitted record is done, batched by <paramref name="settings"/>,
    /// and once more when the stream completes or fails. The task completes after that last commit
    /// (failed with the stream's error, if any). Offsets of partitions that were revoked meanwhile are ignored.
    /// </summary>
    public static Sink<CommittableOffset, Task> Sink(KafkaCommitterSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Akka.Streams.Dsl.Sink.FromGraph(new KafkaCommitterStage(settings));
    }
}
