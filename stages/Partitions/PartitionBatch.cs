using Akka.Actor;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Partitions;

/// <summary>
/// The events of one micro-batch that belong to one user partition, in stream order. Sent to that
/// partition's entity, which persists them as one journal row and answers with a <see cref="PartitionReply"/>.
/// </summary>
/// <param name="ScoringInbox">
/// The sending stream's scoring inbox when the events are to be scored: the partition then keeps each
/// new event until the scorer confirms it, and sends the requests it could not issue at once (the user
/// had a request in flight) to this inbox as <see cref="FollowUps"/>. Null for an ingest-only run.
/// </param>
public sealed record PartitionBatch(int Partition, IReadOnlyList<IngestedEvent> Events, IActorRef? ScoringInbox = null) : IPartitionMessage
{
    /// <summary>Whether the events await scoring.</summary>
    public bool AwaitScoring => ScoringInbox is not null;
}
