using System.Buffers;
using System.Text.Json;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Writes a dead letter as one JSON object — the value of a dead-letter topic record (and a line of a
/// dead-letter JSONL file):
/// <c>{"reason","detail","source","partition","offset","raw" | "rawBase64","rawBytes","rawTruncated"}</c>.
/// The raw record is kept up to <c>maxRawBytes</c> (streamdetect.dead-letters.max-raw-bytes), as text
/// when it is UTF-8 ("raw", cut on a character boundary) and as base64 otherwise ("rawBase64");
/// "rawBytes" is the record's full length and "rawTruncated" says whether part of it was dropped.
/// </summary>
public static class DeadLetterJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(Utf8JsonWriter writer, DeadLetter deadLetter, int maxRawBytes)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRawBytes);
        var raw = deadLetter.Raw;
        var position = raw.Position;
        ReadOnlySpan<byte> bytes = raw.Bytes.Span;
        int keep = Math.Min(bytes.Length, maxRawBytes);
        int boundary = CharBoundary(bytes, keep);
        bool utf8 = System.Text.Unicode.Utf8.IsValid(bytes[..boundary]);
        if (utf8) keep = boundary;

        writer.WriteStartObject();
        writer.WriteString("reason"u8, deadLetter.Rejection.Code);
        writer.WriteString("detail"u8, deadLetter.Rejection.Detail);
        writer.WriteString("source"u8, position.Source);
        writer.WriteNumber("partition"u8, position.Partition);
        writer.WriteNumber("offset"u8, position.Offset);
        if (utf8) writer.WriteString("raw"u8, bytes[..keep]);
        else writer.WriteBase64String("rawBase64"u8, bytes[..keep]);
        writer.WriteNumber("rawBytes"u8, raw.Length);
        writer.WriteBoolean("rawTruncated"u8, keep < raw.Length);
        writer.WriteEndObject();
    }

    public static byte[] ToUtf8(DeadLetter deadLetter, int maxRawBytes)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + Math.Min(deadLetter.Raw.Bytes.Length, maxRawBytes) * 2);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, deadLetter, maxRawBytes);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The largest length not above <paramref name="length"/> that does not split a UTF-8 character.</summary>
    private static int CharBoundary(ReadOnlySpan<byte> bytes, int length)
    {
        if (length >= bytes.Length) return bytes.Length;
        while (length > 0 && (bytes[length] & 0xC0) == 0x80) length--;
        return length;
    }
}
