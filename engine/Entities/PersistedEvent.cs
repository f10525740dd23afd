using StreamDetect.Models.Events;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Entities;

/// <summary>One event as the journal keeps it: the event, its source position (for de-duplication) and its order key (the decision order; 0 in rows written before order keys existed).</summary>
public readonly record struct PersistedEvent(UserEvent Event, SourcePosition Position, long OrderKey = 0)
{
    /// <summary>The order key, or the event's own time for rows written before order keys.</summary>
    public long Key => OrderKey != 0 ? OrderKey : Event.TimestampMs;
}
