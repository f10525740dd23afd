using StreamDetect.Models.Detection;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// What a run hands to <see cref="RunJob.Online"/> when it builds its scoring loop (issue 11), so the online trainer can
/// make its <see cref="OnlineScoring"/>: the run's model (the first champion), the stream's decision ledger (the
/// trainer resolves a boundary once <c>AllDecidedBefore</c> it), the run's thresholds and configuration.
/// </summary>
public sealed record OnlineScoringStart(IAnomalyDetector Champion, DecisionLedger Ledger, ThresholdSettings Thresholds, Akka.Configuration.Config Config)
{
    /// <summary>The users the run trained its model on (the trainer's anchors and canaries); null when the model was loaded.</summary>
    public Models.Dataset.BehaviorDataset? TrainedOn { get; init; }

    /// <summary>userId -> scenario or "normal" for the run's input, when it comes with ground truth (the generator, or a
    /// truth file): the scenarios of <see cref="TrainedOn"/>'s attack users, which the canary gate judges by scenario.</summary>
    public IReadOnlyDictionary<string, string>? Truth { get; init; }

    /// <summary>The engine's actor system (cluster-wide plans: the decider singleton and the broadcast); null outside an engine.</summary>
    public Akka.Actor.ActorSystem? System { get; init; }
}
