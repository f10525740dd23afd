using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.DeadLetters;

/// <summary>
/// The dead-letter record, one JSON object: reason code, detail, position (source, partition, offset
/// and "file:line"-style text), the raw record (as text when it is UTF-8, else base64) cut to a size
/// limit, its full length and whether it was cut. Used for dead-letter files and topics alike.
/// </summary>
public static class DeadLetterJson
{
    private static readonly JsonWriterOptions Options = new() { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(Utf8JsonWriter w, DeadLetter letter, int maxRawBytes)
    {
        var raw = letter.Raw;
        var bytes = raw.Bytes.Span;
        bool cut = bytes.Length > maxRawBytes;
        if (cut) bytes = bytes[..maxRawBytes];

        w.WriteStartObject();
        w.WriteString("reason"u8, letter.Rejection.Code);
        w.WriteString("detail"u8, letter.Rejection.Detail);
        w.WriteString("position"u8, raw.Position.ToString());
        w.WriteString("source"u8, raw.Position.Source);
        w.WriteNumber("partition"u8, raw.Position.Partition);
        w.WriteNumber("offset"u8, raw.Position.Offset);
        if (Utf8.IsValid(bytes) || (cut && Utf8.IsValid(TrimPartialCharacter(bytes))))
            w.WriteString("raw"u8, cut ? TrimPartialCharacter(bytes) : bytes);
        else
            w.WriteBase64String("rawBase64"u8, bytes);
        w.WriteNumber("rawBytes"u8, raw.Length);
        w.WriteBoolean("rawTruncated"u8, raw.IsTruncated || cut);
        w.WriteEndObject();
    }

    /// <summary>One dead letter as UTF-8 JSON bytes (no newline).</summary>
    public static byte[] ToUtf8(DeadLetter letter, int maxRawBytes)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, Options)) Write(writer, letter, maxRawBytes);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Drops a UTF-8 sequence cut in half at the end of a prefix.</summary>
    private static ReadOnlySpan<byte> TrimPartialCharacter(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.Length;
        for (int back = 1; back <= 3 && back <= bytes.Length; back++)
        {
            byte b = bytes[^back];
            if ((b & 0b1100_0000) == 0b1000_0000) continue; // continuation byte: keep looking for the lead
            if ((b & 0b1000_0000) != 0)
            {
                int need = (b & 0b1110_0000) == 0b1100_0000 ? 2 : (b & 0b1111_0000) == 0b1110_0000 ? 3 : 4;
                if (need > back) end = bytes.Length - back;
            }
            break;
        }
        return bytes[..end];
    }
}
