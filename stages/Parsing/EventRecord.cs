using System.Text.Json.Serialization;

namespace StreamDetect.Stages.Parsing;

/// <summary>
/// The wire shape of an event (JSON Lines and Kafka record values), read with System.Text.Json
/// source generation. Every field is optional here; <see cref="EventParser"/> validates.
/// </summary>
public sealed class EventRecord
{
    [JsonPropertyName("userId")] public string? UserId { get; set; }
    [JsonPropertyName("ts")] public JsonTimestamp Ts { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("item")] public string? Item { get; set; }
    [JsonPropertyName("category")] public string? Category { get; set; }
    [JsonPropertyName("amount")] public double? Amount { get; set; }
    [JsonPropertyName("query")] public string? Query { get; set; }
    [JsonPropertyName("ip")] public string? Ip { get; set; }
    [JsonPropertyName("device")] public string? Device { get; set; }
    [JsonPropertyName("session")] public string? Session { get; set; }
    [JsonPropertyName("label")] public int? Label { get; set; }
}
