using System.Diagnostics;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Parsing;

/// <summary>A valid event and where it came from (for acknowledgement and de-duplication).</summary>
public sealed record IngestedEvent(UserEvent Event, SourcePosition Position) : ParsedRecord(Position)
{
    /// <summary>When the engine accepted the event (<see cref="Stopwatch.GetTimestamp"/>), for ingest-to-alert latency.</summary>
    public long ReceivedTicks { get; init; } = Stopwatch.GetTimestamp();

    /// <summary>
    /// What the source needs back once the event is persisted (a Kafka offset to commit), or null.
    /// Stays in the stream: it is neither persisted nor sent to an entity on another node.
    /// </summary>
    public object? Ack { get; init; }

    /// <summary>
    /// The event's order key (<c>Ordering.DecisionLedger</c>): set when the stream reads the event for scoring,
    /// 0 otherwise. Persisted with the event.
    /// </summary>
    public long OrderKey { get; set; }
}
