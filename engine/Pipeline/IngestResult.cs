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
    TimeSpan Elapsed);
