using StreamDetect.Stages.Partitions;
using StreamDetect.Engine.Entities;
using StreamDetect.Stages.DeadLetters;

namespace StreamDetect.Engine.Pipeline;

/// <summary>What one ingest run saw and did.</summary>
public sealed record IngestResult(
    long RecordsIn,
    IngestStatistics Statistics,
    DeadLetterSummary DeadLetters,
    RoutingStatistics Routing,
    IReadOnlyList<PartitionStats> Partitions,
    TimeSpan Elapsed)
{
    /// <summary>
    /// From the first event in to the last persisted: the time the stream itself took, without start-up
    /// (a Kafka group join) or the wait before a Kafka run decides it is idle. Zero without events.
    /// </summary>
    public TimeSpan Streaming { get; init; }

    /// <summary>When a partition first answered with an event persisted (wall clock); null without events.</summary>
    public DateTimeOffset? FirstPersisted { get; init; }
}
