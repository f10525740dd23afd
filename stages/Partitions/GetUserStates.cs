namespace StreamDetect.Stages.Partitions;

/// <summary>Asks a user partition (on this node) for a copy of every user's state; answered with <see cref="UserStates"/>.</summary>
public sealed record GetUserStates(int Partition) : IPartitionMessage;
