namespace StreamDetect.Engine.Registry;

/// <summary>What one row of the append-only <c>model_lifecycle</c> table records (column <c>event</c>, kebab-case).</summary>
public enum LifecycleEvent
{
    /// <summary>The version entered the registry (as a candidate).</summary>
    Registered,

    /// <summary>A candidate started scoring in shadow.</summary>
    Shadow,

    /// <summary>A candidate or shadow version was refused.</summary>
    Rejected,

    /// <summary>The version became champion by a promotion.</summary>
    Promoted,

    /// <summary>The champion was replaced by a promotion.</summary>
    Retired,

    /// <summary>The champion was rolled back (and rejected).</summary>
    RolledBack,

    /// <summary>The version became champion again by a rollback of its successor.</summary>
    Restored,
}
