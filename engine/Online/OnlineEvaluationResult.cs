using StreamDetect.Models.Evaluation;

namespace StreamDetect.Engine.Online;

/// <summary>What `eval --online` measured: the per-day rows, the versions and rounds, the guard's counts and the alerts emitted.</summary>
public sealed record OnlineEvaluationResult(IReadOnlyList<DayMetrics> Days, IReadOnlyList<VersionTransition> Transitions, IReadOnlyList<TrainingRound> Rounds,
    IReadOnlyDictionary<string, long> GuardCounts, long Alerts, bool Learned);
