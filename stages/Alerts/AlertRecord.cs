namespace StreamDetect.Stages.Alerts;

/// <summary>
/// An alert as it is journaled by its user's partition and written to the output: its identity, where it
/// sits in the decision order, and its JSON (one line of the alert file, one record value of the alert
/// topic). Built once by the decider, so a re-emission after a crash is byte for byte the same alert.
/// </summary>
/// <param name="AlertId">The deterministic id (<see cref="AlertIds"/>).</param>
/// <param name="TimeMs">Event time of the alerting event (the cooldown counts from it).</param>
/// <param name="OrderKey">The alerting event's order key: alerts leave in (order key, user, event) order.</param>
/// <param name="EventIndex">The alerting event's position among the user's events (1 = first).</param>
/// <param name="Json">The alert as UTF-8 JSON, without a line break.</param>
public sealed record AlertRecord(string AlertId, string UserId, long TimeMs, long OrderKey, long EventIndex, byte[] Json)
{
    /// <summary>When the engine accepted the alerting request's first event (Stopwatch ticks), for latency; 0 when unknown. Not persisted.</summary>
    public long ReceivedTicks { get; init; }

    /// <summary>Emitted again after a crash (journaled before it, never confirmed delivered): the output may hold it already. Not persisted.</summary>
    public bool Redelivery { get; init; }

    /// <summary>The deciding model (name@version), for metrics; null when unknown (a redelivery). Not persisted.</summary>
    public string? Model { get; init; }

    /// <summary>The threshold segment the alert was decided in, for metrics; null when unknown. Not persisted.</summary>
    public string? Segment { get; init; }

    /// <summary>The canonical output order: order key, then user, then the user's event.</summary>
    public static readonly IComparer<AlertRecord> OutputOrder = Comparer<AlertRecord>.Create((a, b) =>
    {
        int c = a.OrderKey.CompareTo(b.OrderKey);
        if (c != 0) return c;
        c = string.CompareOrdinal(a.UserId, b.UserId);
        return c != 0 ? c : a.EventIndex.CompareTo(b.EventIndex);
    });
}
