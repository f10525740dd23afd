namespace StreamDetect.Stages.Partitions;

/// <summary>
/// Asks a user partition to journal the scoring confirmations and alert deliveries it holds now (a run that
/// ends cleanly has had everything scored); answered with its <see cref="PartitionStats"/> once they are written.
/// </summary>
public sealed record FlushScoredMarks(int Partition) : IPartitionMessage;
