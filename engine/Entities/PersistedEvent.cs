using StreamDetect.Models.Events;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Entities;

/// <summary>One event as the journal keeps it: the event and its source position (for de-duplication).</summary>
public readonly record struct PersistedEvent(UserEvent Event, SourcePosition Position);
