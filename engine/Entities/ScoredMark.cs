namespace StreamDetect.Engine.Entities;

/// <summary>
/// The scorer confirmed a user's events up to <paramref name="ScoredThrough"/> (the user's event count
/// at the request): journaled so that, after a crash, the events persisted beyond it are scored again.
/// </summary>
public readonly record struct ScoredMark(string UserId, long ScoredThrough);
