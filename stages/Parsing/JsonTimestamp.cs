using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StreamDetect.Stages.Parsing;

/// <summary>
/// The "ts" field as read, before validation: epoch milliseconds when it parsed, otherwise the
/// offending text, so that a bad time becomes a dead letter with a reason instead of an exception.
/// Accepted: an ISO 8601 string (offset or Z; no offset means UTC), or an epoch number in seconds
/// (below 1e11) or milliseconds.
/// </summary>
[JsonConverter(typeof(JsonTimestampConverter))]
public readonly record struct JsonTimestamp(long? EpochMs, string? Invalid)
{
    public bool IsPresent => EpochMs is not null || Invalid is not null;

    /// <summary>Converts an epoch number of seconds (below 1e11) or milliseconds to milliseconds.</summary>
    public static long? FromEpochNumber(double value)
    {
        if (!double.IsFinite(value)) return null;
        double ms = Math.Abs(value) < 1e11 ? value * 1000.0 : value;
        if (ms > 4e15 || ms < -4e15) return null;
        return (long)Math.Round(ms);
    }
}

/// <summary>Reads <see cref="JsonTimestamp"/> without throwing on a bad time.</summary>
public sealed class JsonTimestampConverter : JsonConverter<JsonTimestamp>
{
    public override JsonTimestamp Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                if (reader.TryGetDateTimeOffset(out var time))
                {
                    // A time without an offset means UTC here, never the machine's local zone.
                    if (!HasOffset(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan))
                        time = new DateTimeOffset(time.DateTime, TimeSpan.Zero);
                    return new JsonTimestamp(time.ToUnixTimeMilliseconds(), null);
                }
                string text = reader.GetString() ?? "";
                if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double fromText)
                    && JsonTimestamp.FromEpochNumber(fromText) is long ms)
                    return new JsonTimestamp(ms, null);
                return new JsonTimestamp(null, text.Length > 40 ? text[..40] + "..." : text);
            case JsonTokenType.Number:
                if (reader.TryGetDouble(out double number) && JsonTimestamp.FromEpochNumber(number) is long epochMs)
                    return new JsonTimestamp(epochMs, null);
                return new JsonTimestamp(null, System.Text.Encoding.UTF8.GetString(reader.ValueSpan));
            case JsonTokenType.Null:
                return default;
            default:
                reader.Skip();
                return new JsonTimestamp(null, $"<{reader.TokenType}>");
        }
    }

    private static bool HasOffset(ReadOnlySpan<byte> text)
    {
        // yyyy-MM-ddTHH:mm:ss[.fff][Z|+hh:mm|-hh:mm]: look for Z or a sign after the date part.
        for (int i = 10; i < text.Length; i++)
            if (text[i] is (byte)'Z' or (byte)'z' or (byte)'+' or (byte)'-') return true;
        return false;
    }

    public override void Write(Utf8JsonWriter writer, JsonTimestamp value, JsonSerializerOptions options)
    {
        if (value.EpochMs is long ms)
        {
            Span<byte> buffer = stackalloc byte[32];
            int length = UserEventJson.FormatTimestamp(ms, buffer);
            writer.WriteStringValue(buffer[..length]);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
