namespace StreamDetect.Models.Evaluation;

/// <summary>The report, every evaluated user's score and every evaluated event at or above the threshold (in scoring order).</summary>
public sealed record EvaluationResult(EvaluationReport Report, IReadOnlyList<UserScore> Users, IReadOnlyList<AlertedEvent> Alerts);
