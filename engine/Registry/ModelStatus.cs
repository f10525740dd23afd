namespace StreamDetect.Engine.Registry;

/// <summary>Where a model version stands (column <c>status</c> of <c>model_versions</c>, written in lower case).</summary>
public enum ModelStatus
{
    /// <summary>Registered, not yet evaluated on live traffic.</summary>
    Candidate,

    /// <summary>Scoring live traffic beside the champion; its alerts go to a shadow output only.</summary>
    Shadow,

    /// <summary>The version that scores: the last one promoted (or restored by a rollback). At most one.</summary>
    Champion,

    /// <summary>Refused by a gate or an operator, or rolled back after its promotion.</summary>
    Rejected,

    /// <summary>A former champion replaced by a promotion (a rollback may restore it).</summary>
    Retired,
}
