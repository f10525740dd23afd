namespace StreamDetect.Stages.Partitions;

/// <summary>Asks a user partition for a user's alert state (feedback labels need the user's segment and last alert); answered with <see cref="UserAlertStateReply"/>.</summary>
public sealed record GetAlertState(int Partition, string UserId) : IPartitionMessage;
