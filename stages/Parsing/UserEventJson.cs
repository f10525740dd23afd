using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Parsing;

/// <summary>
/// Writes events in the wire format of DESIGN.md (one JSON object; absent optional fields omitted;
/// ts as ISO 8601 UTC with milliseconds). The same bytes are a JSON Lines line and a Kafka value.
/// </summary>
public static class UserEventJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes one event as a JSON object (no trailing newline).</summary>
    public static void Write(Utf8JsonWriter writer, UserEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString("userId"u8, e.UserId);
        Span<byte> ts = stackalloc byte[32];
        int length = FormatTimestamp(e.TimestampMs, ts);
        writer.WriteString("ts"u8, ts[..length]);
        writer.WriteString("type"u8, e.Type);
        if (e.Item is not null) writer.WriteString("item"u8, e.Item);
        if (e.Category is not null) writer.WriteString("category"u8, e.Category);
        if (e.Amount is double amount) writer.WriteNumber("amount"u8, Math.Round(amount, 2));
        if (e.Query is not null) writer.WriteString("query"u8, e.Query);
        if (e.Ip is not null) writer.WriteString("ip"u8, e.Ip);
        if (e.Device is not null) writer.WriteString("device"u8, e.Device);
        if (e.Session is not null) writer.WriteString("session"u8, e.Session);
        if (e.Label is int label) writer.WriteNumber("label"u8, label);
        writer.WriteEndObject();
    }

    /// <summary>Serializes one event to UTF-8 bytes (a Kafka record value).</summary>
    public static byte[] ToUtf8(UserEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, e);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A writer configured for the wire format (no escaping of non-ASCII text beyond JSON's needs).</summary>
    public static Utf8JsonWriter CreateWriter(IBufferWriter<byte> output) => new(output, WriterOptions);

    /// <summary>Formats epoch milliseconds as "yyyy-MM-ddTHH:mm:ss.fffZ" into <paramref name="destination"/>.</summary>
    public static int FormatTimestamp(long epochMs, Span<byte> destination)
    {
        var time = DateTime.UnixEpoch.AddMilliseconds(epochMs);
        if (!Utf8Formatter.TryFormat(time, destination, out int written, new StandardFormat('O')))
            throw new ArgumentException("destination too small", nameof(destination));
        // 'O' writes 7 fractional digits and no zone for Kind=Utc? It writes "...0000000Z"; keep milliseconds.
        // Layout: yyyy-MM-ddTHH:mm:ss.fffffffZ (28 bytes) -> yyyy-MM-ddTHH:mm:ss.fffZ (24 bytes).
        if (written == 28 && destination[27] == (byte)'Z')
        {
            destination[23] = (byte)'Z';
            return 24;
        }
        return written;
    }
}
