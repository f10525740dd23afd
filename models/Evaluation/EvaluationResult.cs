namespace StreamDetect.Models.Evaluation;

/// <summary>The report and every evaluated user's score.</summary>
public sealed record EvaluationResult(EvaluationReport Report, IReadOnlyList<UserScore> Users);
