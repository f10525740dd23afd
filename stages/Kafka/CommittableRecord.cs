using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Kafka;

/// <summary>A consumed record and the handle to commit it once processed.</summary>
public sealed class CommittableRecord
{
    public CommittableRecord(KafkaRecord record, CommittableOffset offset)
    {
        Record = record;
        Offset = offset;
    }

    public KafkaRecord Record { get; }

    /// <summary>Hand this to the committer when the record is done.</summary>
    public CommittableOffset Offset { get; }

    /// <summary>The record value and position, for the parse stage.</summary>
    public RawRecord Raw => Record.Raw;

    public override string ToString() => Record.ToString();
}
