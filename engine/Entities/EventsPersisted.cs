namespace StreamDetect.Engine.Entities;

/// <summary>
/// The journal event of a user partition: the events of one incoming batch that were not replays,
/// in stream order. One journal row holds the whole batch (rows per second, not events, is what the
/// store can sustain); see README "Persistence".
/// </summary>
public sealed record EventsPersisted(IReadOnlyList<PersistedEvent> Events);
