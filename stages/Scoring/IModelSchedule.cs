namespace StreamDetect.Stages.Scoring;

/// <summary>
/// The live path's model plan over order keys (<c>DecisionLedger</c>), the seam between the scoring loop and the online
/// trainer (issue 11). The plan may change only at boundaries on a fixed grid of order keys (multiples of
/// <see cref="BoundaryMs"/>, the trainer's cadence), and every boundary the stream reaches must be resolved: an event whose
/// order key is at or past a boundary not yet resolved is not scored until <see cref="Resolve"/> is called for it. So which
/// model scores an event is a function of the input alone (the same alerts on every run), and the trainer decides a
/// boundary from the events before it only (<c>DecisionLedger.AllDecidedBefore</c>), never from which were scored first.
/// </summary>
public interface IModelSchedule
{
    /// <summary>The grid: the plan may change at order keys that are multiples of this many milliseconds (event time).</summary>
    long BoundaryMs { get; }

    /// <summary>
    /// The smallest boundary not yet resolved that an admitted event has reached (its order key is at or past it), or
    /// null when none: the boundary the trainer must resolve next.
    /// </summary>
    long? PendingBoundary { get; }

    /// <summary>
    /// Resolves <paramref name="boundaryKey"/> (the <see cref="PendingBoundary"/>): events with order keys from it up to
    /// the next boundary are scored under <paramref name="plan"/>, and the events held at it are released.
    /// </summary>
    void Resolve(long boundaryKey, ModelPlan plan);

    /// <summary>
    /// No boundary can be resolved any more (the trainer, or the store the plans are written to, failed past recovery):
    /// the events held at the next unresolved boundary, and every later one that reaches it, fail the stream with
    /// <paramref name="failure"/> instead of waiting for ever. The first failure given stays.
    /// </summary>
    void Fail(Exception failure);
}
