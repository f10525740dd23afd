namespace StreamDetect.Models.Evaluation;

/// <summary>The result of an evaluation: overall and per-scenario metrics, user-level and event-level.</summary>
public sealed record EvaluationReport(
    string Model,
    string Version,
    DateTime From,
    DateTime Until,
    double PeriodDays,
    double AlertRate,
    double Threshold,
    int UsersScored,
    long EventsScored,
    double NormalUserAlertRate,
    double ScoringSeconds,
    ScenarioMetrics Overall,
    IReadOnlyList<ScenarioMetrics> Scenarios);
