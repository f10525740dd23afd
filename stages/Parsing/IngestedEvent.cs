using System.Diagnostics;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Parsing;

/// <summary>A valid event and where it came from (for acknowledgement and de-duplication).</summary>
public sealed record IngestedEvent(UserEvent Event, SourcePosition Position) : ParsedRecord(Position)
{
    /// <summary>When the engine accepted the event (<see cref="Stopwatch.GetTimestamp"/>), for ingest-to-alert latency.</summary>
    public long ReceivedTicks { get; init; } = Stopwatch.GetTimestamp();
}
