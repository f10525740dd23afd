using Confluent.Kafka;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Materialized value of a Kafka consumer source: stops it in a controlled way without losing commits.
/// </summary>
public interface IKafkaControl
{
    /// <summary>
    /// Stops emitting records: the source completes, so the stream can finish the records already in it.
    /// The consumer stays in its group (partitions paused) and keeps committing what the committer
    /// reports, until <see cref="Shutdown"/>.
    /// </summary>
    Task Stop();

    /// <summary>
    /// Commits what is done, leaves the group and closes the consumer. Records still in flight are not
    /// committed (they are replayed after a restart). Completes when the consumer is closed.
    /// </summary>
    Task Shutdown();

    /// <summary>Completes when the consumer is closed, whatever closed it (Shutdown, cancellation, failure).</summary>
    Task IsShutdown { get; }

    /// <summary>
    /// Whether the consumer has joined its group: a rebalance gave it its partitions (possibly none).
    /// Until then no record can arrive, however long the join takes (e.g. while the group waits for the
    /// session of a member that died to expire).
    /// </summary>
    bool Joined { get; }

    /// <summary>
    /// The partitions the consumer owns now (a snapshot): empty before its group gives it any, after they
    /// are revoked or lost, and once it is closed. For monitoring and tests that must know the group's split.
    /// </summary>
    IReadOnlyList<TopicPartition> Assignment { get; }

    /// <summary>
    /// The consumer's lag on each partition it owns (a snapshot, refreshed about once a second by the poll
    /// thread): records between the committed offset (the consumer's position before any commit) and the
    /// high watermark librdkafka last learnt from a fetch. A partition whose watermark is not known yet is left out.
    /// </summary>
    IReadOnlyList<PartitionLag> Lag { get; }

    /// <summary>
    /// Records the group never read because retention deleted them first (the first offset this consumer
    /// could read on a partition was above the committed or expected one), summed over every partition
    /// since the start. Each loss is also logged with its topic, partition and offsets.
    /// </summary>
    long RecordsLostToRetention { get; }

    /// <summary>
    /// Whether no broker is reachable now (librdkafka reported all brokers down and none has answered
    /// since). No record arrives then, but the topic is not idle: callers that stop on idleness wait.
    /// </summary>
    bool BrokersUnreachable { get; }

    /// <summary>
    /// Whether a broker proved reachable lately (a record, or an answer to the metadata the consumer asks for once a
    /// second while no record comes): false during an outage and while one is not ruled out yet (the last answer is
    /// older than the probe interval). Callers that stop on idleness count only idleness a broker confirmed.
    /// </summary>
    bool BrokersConfirmedReachable { get; }

    /// <summary>
    /// Stops emitting, waits for <paramref name="streamCompletion"/> (which should include the committer's
    /// task, so every processed record has been committed), then shuts the consumer down. A failure of the
    /// stream is rethrown after the consumer is shut down.
    /// </summary>
    Task DrainAndShutdown(Task streamCompletion);

    /// <inheritdoc cref="DrainAndShutdown(Task)"/>
    Task<T> DrainAndShutdown<T>(Task<T> streamCompletion);
}
