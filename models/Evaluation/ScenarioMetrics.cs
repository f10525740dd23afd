namespace StreamDetect.Models.Evaluation;

/// <summary>Metrics over one scenario's users together with all normal users ("overall": everyone).</summary>
/// <param name="Scenario">The scenario name from the truth file, or "overall".</param>
/// <param name="Users">User-level: a user's score is the max of its event scores in the period; label 1 iff any event in the period is labelled 1.</param>
/// <param name="Events">Event-level: every scored event of those users.</param>
public sealed record ScenarioMetrics(string Scenario, DetectionMetrics Users, DetectionMetrics Events);
