namespace StreamDetect.Engine.Registry;

/// <summary>
/// One row of the append-only <c>model_lifecycle</c> table, written in the transaction that changed the
/// version's status (so the history and the statuses never disagree, whatever stops the process).
/// </summary>
/// <param name="Sequence">Order of the rows (ascending, unique in the store).</param>
/// <param name="From">The status before; null for <see cref="LifecycleEvent.Registered"/>.</param>
/// <param name="PreviousChampion">For a promotion or a restore: the champion it replaced (what a rollback returns to); else null.</param>
/// <param name="At">When (UTC).</param>
public sealed record LifecycleEntry(
    long Sequence,
    string VersionId,
    LifecycleEvent Event,
    ModelStatus? From,
    ModelStatus To,
    string Reason,
    string? PreviousChampion,
    DateTimeOffset At);
