namespace StreamDetect.Stages.Partitions;

/// <summary>
/// Alerts the stream has written to its output (file flushed, topic acknowledged). The partition journals
/// the ids with its next row; an alert not marked delivered when the engine died is emitted again after
/// the restart (<see cref="PartitionReply.UndeliveredAlerts"/>).
/// </summary>
public sealed record AlertsDelivered(int Partition, IReadOnlyList<string> AlertIds) : IPartitionMessage;
