using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// A partition entity's answer to a <see cref="PartitionBatch"/>, sent only after the batch is
/// persisted: one scoring request per user that had new events, and how many events were dropped as
/// replays of events persisted before (at-least-once sources re-deliver after a crash).
/// </summary>
public sealed record PartitionReply(int Partition, IReadOnlyList<ScoringRequest> Requests, int Accepted, int Duplicates, int NewUsers, bool SnapshotTaken)
{
    /// <summary>The batch's events (accepted and duplicates), for source acknowledgement.</summary>
    public IReadOnlyList<Sources.SourcePosition> Positions { get; init; } = [];
}
