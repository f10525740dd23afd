using System.Text.Json;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Reads <c>{"userId":"u-1","label":1,"alertId":"a-9"}</c> (alertId optional, other fields ignored) and
/// validates it. Pure; every failure is a reason string, never an exception, and never echoes the value.
/// </summary>
public static class FeedbackLabelParser
{
    /// <summary>Longest accepted userId / alertId, in characters.</summary>
    public const int MaxIdChars = 256;

    public static FeedbackLabel? TryParse(ReadOnlySpan<byte> json, out string? error)
    {
        string? userId = null, alertId = null;
        int? label = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8, AllowMultipleValues = true });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "not a JSON object";
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("userId"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String) return Fail("userId is not a string", out error);
                    userId = reader.GetString();
                }
                else if (reader.ValueTextEquals("label"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int value))
                        return Fail("label is not an integer", out error);
                    label = value;
                }
                else if (reader.ValueTextEquals("alertId"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null) alertId = null;
                    else if (reader.TokenType == JsonTokenType.String) alertId = reader.GetString();
                    else return Fail("alertId is not a string", out error);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                return Fail("trailing data after the object", out error);
        }
        catch (JsonException e)
        {
            return Fail($"malformed JSON (byte {e.BytePositionInLine})", out error);
        }

        if (string.IsNullOrWhiteSpace(userId)) return Fail("userId is missing or empty", out error);
        if (userId.Length > MaxIdChars) return Fail($"userId is longer than {MaxIdChars} characters", out error);
        if (label is null) return Fail("label is missing", out error);
        if (label is not (0 or 1)) return Fail($"label {label} is not 0 or 1", out error);
        if (alertId is { Length: > MaxIdChars }) return Fail($"alertId is longer than {MaxIdChars} characters", out error);
        error = null;
        return new FeedbackLabel(userId, label.Value, string.IsNullOrEmpty(alertId) ? null : alertId);
    }

    private static FeedbackLabel? Fail(string reason, out string? error)
    {
        error = reason;
        return null;
    }
}
