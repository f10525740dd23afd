namespace StreamDetect.Stages.Sources;

/// <summary>
/// Where a record came from: a file and line, a Kafka topic/partition/offset, or the generator's
/// sequence number. Positions let a source acknowledge (commit) what has been processed, let the user
/// entity drop a replayed event, and let a dead letter say where the bad record was.
/// </summary>
/// <param name="Source">File path, Kafka topic, or "generator".</param>
/// <param name="Partition">Kafka partition; 0 for files and the generator.</param>
/// <param name="Offset">Line number (1-based) in a file, Kafka offset, or generator sequence number.</param>
/// <param name="Epoch">Which incarnation of the source this is: a fingerprint of a file's first bytes
/// or of the generator's settings, 0 for Kafka. Offsets are only comparable within one epoch, so a file
/// regenerated under the same name is new input, not a replay of the old one.</param>
public readonly record struct SourcePosition(string Source, int Partition, long Offset, long Epoch = 0)
{
    public override string ToString() => Partition == 0 && !Source.StartsWith("kafka:", StringComparison.Ordinal)
        ? $"{Source}:{Offset}"
        : $"{Source}[{Partition}]@{Offset}";
}
