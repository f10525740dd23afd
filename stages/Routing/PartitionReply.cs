using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// A partition entity's answer to a <see cref="PartitionBatch"/>, sent only after the batch is
/// persisted: one scoring request per user that had new events, and how many events were dropped as
/// replays of events persisted before (at-least-once sources re-deliver after a crash).
/// </summary>
public sealed record PartitionReply(int Partition, IReadOnlyList<ScoringRequest> Requests, int Accepted, int Duplicates, int NewUsers, bool SnapshotTaken)
{
    /// <summary>
    /// The source acknowledgements (<see cref="Parsing.IngestedEvent.Ack"/>) of the batch's events,
    /// accepted and replayed alike: all of them are now safely persisted. Set by the routing flow.
    /// </summary>
    public IReadOnlyList<object> Acks { get; init; } = [];
}
