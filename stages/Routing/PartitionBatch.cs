using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// The events of one micro-batch that belong to one user partition, in stream order. Sent to that
/// partition's entity, which persists them as one journal row and answers with a <see cref="PartitionReply"/>.
/// </summary>
public sealed record PartitionBatch(int Partition, IReadOnlyList<IngestedEvent> Events);
