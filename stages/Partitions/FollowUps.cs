using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Partitions;

/// <summary>
/// Scoring requests a partition issues outside a batch answer: a user's events that arrived while the
/// user had a request in flight, issued once that request was settled. Sent to the scoring inbox of the
/// stream that delivered the events.
/// </summary>
public sealed record FollowUps(int Partition, IReadOnlyList<ScoringRequest> Requests) : IPartitionProtocol;
