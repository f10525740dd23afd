using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// One consumed Kafka record: its value as a <see cref="RawRecord"/> (position "kafka:topic", partition,
/// offset) for the normal parse path, plus what the Kafka envelope adds.
/// </summary>
public sealed class KafkaRecord
{
    public KafkaRecord(RawRecord raw, string? key, string? schemaVersion, long? timestampMs)
    {
        Raw = raw;
        Key = key;
        SchemaVersion = schemaVersion;
        TimestampMs = timestampMs;
    }

    /// <summary>The record value and where it came from.</summary>
    public RawRecord Raw { get; }

    /// <summary>The record key decoded as UTF-8 (the userId for events); null when absent.</summary>
    public string? Key { get; }

    /// <summary>The schema header's value (e.g. "1"); null when the record has no such header.</summary>
    public string? SchemaVersion { get; }

    /// <summary>The record's Kafka timestamp (create or log-append time), Unix ms; null when absent.</summary>
    public long? TimestampMs { get; }

    public SourcePosition Position => Raw.Position;

    public override string ToString() => $"{Raw.Position} key={Key} schema={SchemaVersion} {Raw.Length} bytes";
}
