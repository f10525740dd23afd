namespace StreamDetect.Stages.Validation;

/// <summary>Why a record was sent to the dead letters instead of downstream.</summary>
public enum RejectionReason
{
    /// <summary>Not valid JSON (or not a JSON object), or a field of the wrong JSON type.</summary>
    MalformedJson,

    /// <summary>A CSV row that does not fit its file's header (column count, quoting).</summary>
    MalformedCsv,

    /// <summary>Bytes that are not UTF-8 text.</summary>
    InvalidEncoding,

    /// <summary>userId, ts or type is absent or empty.</summary>
    MissingField,

    /// <summary>ts is present but not an ISO 8601 time or epoch number.</summary>
    InvalidTimestamp,

    /// <summary>A value outside the configured sane range (time, amount, label, field length).</summary>
    OutOfRange,

    /// <summary>The record is longer than streamdetect.validation.max-record-bytes.</summary>
    Oversize,

    /// <summary>A Kafka record whose schema-version header names a version this build does not read (or lacks one where it is required).</summary>
    UnsupportedSchema,

    /// <summary>A record a decoder could not handle in any of the ways above (a safety net; the fuzz tests find none).</summary>
    Unreadable,
}
