using StreamDetect.Stages.Alerts;

namespace StreamDetect.Stages.Partitions;

/// <summary>A user's alert state, or <paramref name="Known"/> false for a user the partition holds nothing of.</summary>
public sealed record UserAlertStateReply(string UserId, bool Known, UserAlertState State) : IPartitionProtocol;
