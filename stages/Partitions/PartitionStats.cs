namespace StreamDetect.Stages.Partitions;

/// <summary>What a user partition holds and has done since it started (or recovered).</summary>
/// <param name="Users">Users with state in this partition.</param>
/// <param name="EventsApplied">Events folded into the state, ever (recovered ones included).</param>
/// <param name="RowsWritten">Journal rows written since start.</param>
/// <param name="EventsPersisted">Events persisted since start.</param>
/// <param name="Duplicates">Replayed events dropped since start.</param>
/// <param name="Snapshots">Snapshots saved since start.</param>
/// <param name="RecoveryMs">How long recovery took.</param>
public sealed record PartitionStats(int Partition, int Users, long EventsApplied, long RowsWritten, long EventsPersisted, long Duplicates, int Snapshots, long RecoveryMs) : IPartitionProtocol;
