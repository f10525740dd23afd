using StreamDetect.Models.Features;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Sent by the scorer back to the user's partition entity after a request was scored: the user's new
/// model state, if the model keeps one (the entity keeps it in memory and in its snapshots and hands it
/// to the scorer with the user's next events), and how far the user's events are now scored.
/// </summary>
/// <param name="Slot">The new model state; null for a model without per-user state.</param>
public sealed record ModelStateUpdate(int Partition, string UserId, ModelStateSlot? Slot)
{
    /// <summary>The user's event count the scored request ended at (0: not stated).</summary>
    public long ScoredThrough { get; init; }
}
