using System.Text.Json;

namespace StreamDetect.Stages.Alerts;

/// <summary>An alert as read back from an output (the alert file or topic): what a restart needs to know of it.</summary>
/// <param name="TimeMs">The alert's event time (epoch ms), which its cooldown counts from.</param>
public sealed record EmittedAlert(string AlertId, string UserId, long TimeMs)
{
    /// <summary>Reads alertId, userId and time from an alert's JSON; null when the record is not an alert.</summary>
    public static EmittedAlert? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            string? id = null, user = null;
            long? time = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("alertId"u8) && reader.Read() && reader.TokenType == JsonTokenType.String) id = reader.GetString();
                else if (reader.ValueTextEquals("userId"u8) && reader.Read() && reader.TokenType == JsonTokenType.String) user = reader.GetString();
                else if (reader.ValueTextEquals("time"u8) && reader.Read() && reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var t))
                    time = t.ToUnixTimeMilliseconds();
                else
                {
                    reader.Read();
                    reader.Skip();
                }
                if (id is not null && user is not null && time is not null) return new EmittedAlert(id, user, time.Value);
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
