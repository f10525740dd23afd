using System.Text;
using Confluent.Kafka;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Turns a polled Confluent.Kafka record into a <see cref="CommittableRecord"/>: the value as a
/// <see cref="RawRecord"/> at ("kafka:" + topic, partition, offset), the key decoded as UTF-8 (invalid
/// sequences become U+FFFD: whatever the key and header bytes, converting never throws), the schema
/// header's version and the record timestamp, with the handle that commits it for the partition's current
/// ownership (its epoch). Poll thread only: it caches per-topic source names and the accepted schema
/// versions' bytes, so the common record allocates no strings for them.
/// </summary>
internal sealed class KafkaRecordConverter
{
    private readonly string _schemaHeader;
    private readonly (string Version, byte[] Utf8)[] _schemaVersions;
    private readonly Dictionary<string, string> _sourceNames = new(StringComparer.Ordinal);

    public KafkaRecordConverter(string schemaHeader, IEnumerable<string> schemaVersions)
    {
        _schemaHeader = schemaHeader;
        _schemaVersions = schemaVersions.Select(v => (v, Encoding.UTF8.GetBytes(v))).ToArray();
    }

    /// <summary>The record of <paramref name="result"/>, committable through <paramref name="session"/> while the partition's epoch is <paramref name="epoch"/>.</summary>
    public CommittableRecord Convert(ConsumeResult<byte[]?, byte[]?> result, KafkaConsumerSession session, int epoch)
    {
        var message = result.Message;
        byte[] value = message.Value ?? [];
        if (!_sourceNames.TryGetValue(result.Topic, out string? source))
        {
            source = "kafka:" + result.Topic;
            _sourceNames[result.Topic] = source;
        }
        var position = new SourcePosition(source, result.Partition.Value, result.Offset.Value);
        var raw = new RawRecord(value, position, value.Length);
        string? key = message.Key is null ? null : Encoding.UTF8.GetString(message.Key);
        string? schema = null;
        if (message.Headers is not null && message.Headers.TryGetLastBytes(_schemaHeader, out byte[]? header))
            schema = SchemaVersion(header);
        long? timestamp = message.Timestamp.Type == TimestampType.NotAvailable ? null : message.Timestamp.UnixTimestampMs;
        var record = new KafkaRecord(raw, key, schema, timestamp);
        return new CommittableRecord(record, new CommittableOffset(session, result.TopicPartition, epoch, position));
    }

    /// <summary>Longest schema header value decoded in full; a longer one names no version and is kept as a prefix.</summary>
    internal const int MaxSchemaHeaderBytes = 64;

    /// <summary>
    /// The header's version: an accepted one by its bytes, anything else decoded for the dead letter's
    /// detail (invalid UTF-8 becomes U+FFFD, never an exception; an oversize value only its prefix).
    /// </summary>
    private string SchemaVersion(byte[]? header)
    {
        if (header is null) return "";
        foreach (var (version, utf8) in _schemaVersions)
        {
            if (header.AsSpan().SequenceEqual(utf8)) return version;
        }
        return header.Length > MaxSchemaHeaderBytes
            ? Encoding.UTF8.GetString(header, 0, MaxSchemaHeaderBytes) + "..."
            : Encoding.UTF8.GetString(header);
    }
}
