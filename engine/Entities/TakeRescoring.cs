namespace StreamDetect.Engine.Entities;

/// <summary>
/// Asks a user partition for the scoring requests of the users whose persisted events were never
/// confirmed scored before a crash (answered with a <see cref="Stages.Routing.PartitionReply"/>; empty
/// when there are none or another answer already carried them). Sent to every partition when a run
/// starts, so those users are scored even when no new event arrives for them.
/// </summary>
public sealed record TakeRescoring(int Partition);
