using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Turns a consumed Kafka record into an <see cref="IngestedEvent"/> or a <see cref="DeadLetter"/>: the
/// schema header is checked first (a version this build does not know is a dead letter, not a guess),
/// then the value goes through the normal <see cref="EventParser"/>. Pure and thread-safe.
/// </summary>
public sealed class KafkaEventDecoder
{
    private readonly EventParser _parser;
    private readonly HashSet<string> _versions;
    private readonly string _header;
    private readonly bool _requireHeader;
    private readonly string _accepted;

    public KafkaEventDecoder(EventParser parser, KafkaConsumerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(settings);
        _parser = parser;
        _versions = new HashSet<string>(settings.SchemaVersions, StringComparer.Ordinal);
        _header = settings.SchemaHeader;
        _requireHeader = settings.RequireSchemaHeader;
        _accepted = string.Join(", ", settings.SchemaVersions);
    }

    public ParsedRecord Decode(KafkaRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.SchemaVersion is null)
        {
            if (_requireHeader)
                return Reject(record, $"record has no '{_header}' header (streamdetect.kafka.consumer.require-schema-header)");
        }
        else if (!_versions.Contains(record.SchemaVersion))
        {
            string shown = record.SchemaVersion.Length > 16 ? record.SchemaVersion[..16] + "..." : record.SchemaVersion;
            return Reject(record, $"schema version '{shown}' in header '{_header}' is not supported (accepted: {_accepted}; streamdetect.kafka.consumer.schema-versions)");
        }
        return _parser.Parse(record.Raw);
    }

    private static DeadLetter Reject(KafkaRecord record, string detail) =>
        new(record.Raw, new Rejection(RejectionReason.UnsupportedSchema, detail));
}
