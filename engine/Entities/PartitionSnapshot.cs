using StreamDetect.Models.Features;

namespace StreamDetect.Engine.Entities;

/// <summary>A user partition's whole state: every user's state, the source marks and the event count.</summary>
public sealed record PartitionSnapshot(
    long EventsApplied,
    IReadOnlyDictionary<SourceStream, long> SourceMarks,
    IReadOnlyDictionary<string, UserBehaviorState> Users);
