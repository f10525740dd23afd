namespace StreamDetect.Models.Events;

/// <summary>
/// One user action on the platform: the unit that flows through StreamDetect.
/// <see cref="UserId"/>, <see cref="TimestampMs"/> and <see cref="Type"/> are always present; the rest
/// are optional and may be absent from a whole dataset. <see cref="Label"/> is ground truth for
/// evaluation only and must never reach a model's input.
/// </summary>
public sealed class UserEvent
{
    public UserEvent(string userId, long timestampMs, string type)
    {
        UserId = userId;
        TimestampMs = timestampMs;
        Type = type;
    }

    /// <summary>The user the event belongs to (the routing and partitioning key).</summary>
    public string UserId { get; }

    /// <summary>Event time, Unix epoch milliseconds (UTC).</summary>
    public long TimestampMs { get; }

    /// <summary>Event type, e.g. "view" or "purchase"; arbitrary strings are allowed.</summary>
    public string Type { get; }

    public string? Item { get; init; }
    public string? Category { get; init; }
    public double? Amount { get; init; }
    public string? Query { get; init; }
    public string? Ip { get; init; }
    public string? Device { get; init; }
    public string? Session { get; init; }

    /// <summary>Ground truth (0 normal, 1 anomalous) where known; for evaluation only.</summary>
    public int? Label { get; init; }

    /// <summary>Event time as a UTC <see cref="DateTime"/>.</summary>
    public DateTime Time => DateTime.UnixEpoch.AddMilliseconds(TimestampMs);

    public override string ToString() => $"{UserId}@{Time:O} {Type}";
}
