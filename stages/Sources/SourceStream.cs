namespace StreamDetect.Stages.Sources;

/// <summary>One ordered stream of a source: a file (in one epoch), a Kafka topic-partition, the generator.</summary>
public readonly record struct SourceStream(string Source, int Partition, long Epoch)
{
    public static SourceStream Of(SourcePosition position) => new(position.Source, position.Partition, position.Epoch);
}
