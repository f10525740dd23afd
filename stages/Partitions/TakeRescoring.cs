using Akka.Actor;

namespace StreamDetect.Stages.Partitions;

/// <summary>
/// Asks a user partition for the scoring requests of the users whose persisted events were never
/// confirmed scored before a crash, and for the alerts it journaled but never saw delivered (answered with
/// a <see cref="PartitionReply"/>; empty when there are none or another answer already carried them).
/// Sent to every partition when a run starts, so those users are scored even when no new event arrives
/// for them. Their later follow-ups go to <paramref name="ScoringInbox"/>.
/// </summary>
public sealed record TakeRescoring(int Partition, IActorRef? ScoringInbox = null) : IPartitionMessage;
