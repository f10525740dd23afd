using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Partitions;

/// <summary>
/// A partition entity's answer to a <see cref="PartitionBatch"/> (or to <see cref="TakeRescoring"/> or <see cref="CloseSessions"/>),
/// sent only after the batch is persisted: one scoring request per user that had new events and no
/// request in flight, and how many events were dropped as replays of events persisted before
/// (at-least-once sources re-deliver after a crash).
/// </summary>
/// <param name="DroppedKeys">The order keys of the replayed events dropped (the stream's decision ledger forgets them).</param>
public sealed record PartitionReply(int Partition, IReadOnlyList<ScoringRequest> Requests, int Accepted, int Duplicates, int NewUsers, bool SnapshotTaken)
    : IPartitionProtocol
{
    /// <summary>The order keys of the replayed events dropped (the stream's decision ledger forgets them).</summary>
    public IReadOnlyList<long> DroppedKeys { get; init; } = [];

    /// <summary>
    /// After recovery: alerts the partition had journaled but never saw delivered (the engine died between
    /// the two). The stream emits them before anything else; carried once.
    /// </summary>
    public IReadOnlyList<AlertRecord> UndeliveredAlerts { get; init; } = [];

    /// <summary>
    /// The order keys of the session end markers this answer's row added for users the sending stream scores
    /// (README "Sessions in the stream"): the stream admits them to its decision ledger before it passes the requests on.
    /// </summary>
    public IReadOnlyList<long> MarkerKeys { get; init; } = [];

    /// <summary>Sessions this answer's row closed (every cause; markers of an ingest-only run included).</summary>
    public int SessionsClosed { get; init; }

    /// <summary>
    /// The source acknowledgements (<see cref="Parsing.IngestedEvent.Ack"/>) of the batch's events,
    /// accepted and replayed alike: all of them are now safely persisted. Set by the routing flow; never
    /// serialized.
    /// </summary>
    public IReadOnlyList<object> Acks { get; init; } = [];
}
