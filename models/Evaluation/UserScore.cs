namespace StreamDetect.Models.Evaluation;

/// <summary>A user's verdict over the evaluated period.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Score">Max of the user's event scores in the period.</param>
/// <param name="Threshold">The alert threshold used.</param>
/// <param name="Label">1 iff any of the user's events in the period is labelled anomalous.</param>
/// <param name="Scenario">The user's scenario from the truth file ("normal" for normal users).</param>
public sealed record UserScore(string UserId, double Score, double Threshold, int Label, string Scenario);
