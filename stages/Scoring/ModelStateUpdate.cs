using StreamDetect.Models.Features;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// A user's new model state, sent by the scorer back to the user's partition entity, which keeps it
/// (in memory and in its snapshots) and hands it to the scorer with the user's next events.
/// </summary>
public sealed record ModelStateUpdate(int Partition, string UserId, ModelStateSlot Slot);
