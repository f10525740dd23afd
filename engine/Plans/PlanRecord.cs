namespace StreamDetect.Engine.Plans;

/// <summary>
/// The model plan decided for one order-key boundary, as the store keeps it (<see cref="ModelPlanStore"/>): the
/// versions (registry ids) that score from <paramref name="Boundary"/> on. Every node resolves that boundary with it.
/// </summary>
/// <param name="Boundary">The order key (event time, ms) the plan takes effect at: a multiple of the cadence.</param>
/// <param name="Champion">The champion's version (its alerts count).</param>
/// <param name="Shadow">The shadow's version, or null.</param>
/// <param name="Reason">Why (the trainer's reason, a registry change, "unchanged").</param>
/// <param name="DecidedBy">The node that wrote it (its cluster address), for the logs.</param>
public sealed record PlanRecord(long Boundary, string Champion, string? Shadow, string Reason, string DecidedBy)
{
    /// <summary>Whether two records name the same versions (the reason and the writer aside).</summary>
    public bool SameVersions(PlanRecord other) => Champion == other.Champion && Shadow == other.Shadow;
}
