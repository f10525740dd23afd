using StreamDetect.Models.Detection;

namespace StreamDetect.Engine.Pipeline;

/// <summary>The model a run scores with, and where it came from.</summary>
/// <param name="TrainedUntilMs">End of the training period when the run trained it on its own traffic (evaluation starts there), else null.</param>
/// <param name="Path">Where the model file is (loaded from, or saved to), if anywhere.</param>
public sealed record TrainedModel(IAnomalyDetector Detector, long? TrainedUntilMs, string? Path, TimeSpan TrainingTime)
{
    /// <summary>The users it was trained on, when the run trained it (online learning's anchors and canaries), else null.</summary>
    public Models.Dataset.BehaviorDataset? TrainingData { get; init; }
}
