using Akka.Actor;

namespace StreamDetect.Stages.Partitions;

/// <summary>
/// The stream settles scored requests with their partition: each user's new model state, alert state and
/// the alerts decided. The partition journals the alerts before it answers (an alert leaves the engine only
/// once its partition has recorded it, so a crash can neither lose nor repeat it), confirms the users'
/// events as scored, and sends the requests that waited for these users to their stream's inbox.
/// Answered with <see cref="ScoringSettled"/>.
/// </summary>
/// <param name="Origin">The settling stream's scoring inbox.</param>
public sealed record SettleScoring(int Partition, IActorRef? Origin, IReadOnlyList<SettledUser> Users) : IPartitionMessage;
