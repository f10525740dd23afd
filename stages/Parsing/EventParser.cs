using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Parsing;

/// <summary>
/// Decodes and validates one record into a <see cref="UserEvent"/> or a <see cref="Rejection"/>.
/// Pure and thread-safe; every failure is a typed rejection, never an exception.
/// </summary>
public sealed class EventParser
{
    private readonly ValidationSettings _settings;

    public EventParser(ValidationSettings settings)
    {
        _settings = settings;
    }

    public ValidationSettings Settings => _settings;

    /// <summary>
    /// Decodes a raw record of either format. Total: whatever the bytes, the answer is an event or a
    /// dead letter with a reason. The decoders below are total by construction (the parser fuzz tests
    /// hold them to it); should one still throw, the record becomes an "unreadable" dead letter naming
    /// the exception type instead of failing the stream.
    /// </summary>
    public ParsedRecord Parse(RawRecord raw)
    {
        if (raw.IsTruncated || raw.Length > _settings.MaxRecordBytes)
            return new DeadLetter(raw, new Rejection(RejectionReason.Oversize,
                $"record is {raw.Length} bytes, limit {_settings.MaxRecordBytes} (streamdetect.validation.max-record-bytes)"));

        DecodeResult result;
        try
        {
            result = raw.Csv is null ? ParseJson(raw.Bytes.Span) : raw.Csv.Decode(raw.Bytes.Span, this);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            result = Reject(RejectionReason.Unreadable, $"the {(raw.Csv is null ? "JSON" : "CSV")} decoder failed on this record ({e.GetType().Name})");
        }
        return result.Event is not null
            ? new IngestedEvent(result.Event, raw.Position)
            : new DeadLetter(raw, result.Rejection!.Value);
    }

    /// <summary>The UTF-8 byte-order mark, accepted (and skipped) at the start of a record.</summary>
    public static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    /// <summary><paramref name="record"/> without a leading UTF-8 byte-order mark.</summary>
    public static ReadOnlySpan<byte> SkipByteOrderMark(ReadOnlySpan<byte> record) =>
        record.StartsWith(ByteOrderMark) ? record[ByteOrderMark.Length..] : record;

    /// <summary>Decodes and validates one JSON object (a leading byte-order mark is skipped).</summary>
    public DecodeResult ParseJson(ReadOnlySpan<byte> json)
    {
        json = SkipByteOrderMark(json);
        if (json.Length > _settings.MaxRecordBytes)
            return Reject(RejectionReason.Oversize, $"record is {json.Length} bytes, limit {_settings.MaxRecordBytes}");
        if (!System.Text.Unicode.Utf8.IsValid(json))
            return Reject(RejectionReason.InvalidEncoding, "record is not valid UTF-8");

        EventRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(json, EventJsonContext.Default.EventRecord);
        }
        catch (JsonException e)
        {
            return Reject(RejectionReason.MalformedJson, Describe(e));
        }
        if (record is null)
            return Reject(RejectionReason.MalformedJson, "record is JSON null, not an object");
        return Validate(record);
    }

    /// <summary>Validates a decoded record (shared by the JSON and CSV decoders).</summary>
    public DecodeResult Validate(EventRecord r)
    {
        if (string.IsNullOrWhiteSpace(r.UserId)) return Reject(RejectionReason.MissingField, "userId is missing or empty");
        if (!r.Ts.IsPresent) return Reject(RejectionReason.MissingField, "ts is missing");
        if (string.IsNullOrWhiteSpace(r.Type)) return Reject(RejectionReason.MissingField, "type is missing or empty");
        if (r.Ts.EpochMs is not long ts) return Reject(RejectionReason.InvalidTimestamp, $"ts '{r.Ts.Invalid}' is not an ISO 8601 time or epoch number");
        if (ts < _settings.MinTimeMs || ts > _settings.MaxTimeMs)
            return Reject(RejectionReason.OutOfRange, $"ts {DescribeTime(ts)} is outside the accepted range (streamdetect.validation.min-time/max-time)");

        if (TooLong(r.UserId, "userId") is { } a) return a;
        if (TooLong(r.Type, "type") is { } b) return b;
        if (TooLong(r.Item, "item") is { } c) return c;
        if (TooLong(r.Category, "category") is { } d) return d;
        if (TooLong(r.Query, "query") is { } e) return e;
        if (TooLong(r.Ip, "ip") is { } f) return f;
        if (TooLong(r.Device, "device") is { } g) return g;
        if (TooLong(r.Session, "session") is { } h) return h;

        if (r.Amount is double amount && (!double.IsFinite(amount) || amount < _settings.MinAmount || amount > _settings.MaxAmount))
            return Reject(RejectionReason.OutOfRange, string.Create(CultureInfo.InvariantCulture,
                $"amount {amount} is outside [{_settings.MinAmount}, {_settings.MaxAmount}] (streamdetect.validation.min-amount/max-amount)"));
        if (r.Label is int label && label is not (0 or 1))
            return Reject(RejectionReason.OutOfRange, $"label {label} is not 0 or 1");
        if (_settings.KeyBySession && string.IsNullOrWhiteSpace(r.Session))
            return Reject(RejectionReason.MissingField, "session is missing or empty (streamdetect.entities.key = session: the session field is the entity)");

        // The entity: the user, or (log-style data, streamdetect.entities.key = session) the session.
        var ev = new UserEvent(_settings.KeyBySession ? r.Session! : r.UserId, ts, EventTypes.Intern(r.Type))
        {
            Item = r.Item,
            Category = r.Category,
            Amount = r.Amount,
            Query = r.Query,
            Ip = r.Ip,
            Device = r.Device,
            Session = r.Session,
            Label = r.Label,
        };
        return new DecodeResult(ev, null);
    }

    /// <summary>
    /// Epoch milliseconds as an ISO 8601 UTC time where <see cref="DateTime"/> can hold it (years 1 to
    /// 9999), else as the number of milliseconds: describing a rejected time must never throw.
    /// </summary>
    public static string DescribeTime(long epochMs) =>
        epochMs >= MinDateTimeMs && epochMs <= MaxDateTimeMs
            ? DateTime.UnixEpoch.AddTicks(epochMs * TimeSpan.TicksPerMillisecond).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{epochMs} ms since 1970-01-01 (beyond year 9999 or before year 1)");

    // In whole ticks: a double of milliseconds rounds DateTime.MaxValue up, past what AddMilliseconds takes.
    private static readonly long MinDateTimeMs = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
    private static readonly long MaxDateTimeMs = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    private DecodeResult? TooLong(string? value, string field) =>
        value is not null && value.Length > _settings.MaxFieldChars
            ? Reject(RejectionReason.OutOfRange, $"{field} is {value.Length} characters, limit {_settings.MaxFieldChars} (streamdetect.validation.max-field-chars)")
            : null;

    private static DecodeResult Reject(RejectionReason reason, string detail) => new(null, new Rejection(reason, detail));

    private static string Describe(JsonException e)
    {
        // System.Text.Json messages name the JSON path and byte position; they never echo values.
        string message = e.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        string head = cut > 0 ? message[..cut] : message;
        string where = e.Path is { Length: > 0 } ? $" at {e.Path}" : "";
        string pos = e.BytePositionInLine is long p ? $" (byte {p})" : "";
        return head.Length > 160 ? head[..160] + where + pos : head + where + pos;
    }
}
