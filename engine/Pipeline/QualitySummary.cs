namespace StreamDetect.Engine.Pipeline;

/// <summary>User-level detection quality of a run (see <see cref="DetectionReport"/>).</summary>
public sealed record QualitySummary(
    double Precision,
    double Recall,
    double F1,
    int Users,
    int AnomalousUsers,
    double NormalAlertRate,
    IReadOnlyDictionary<string, ScenarioQuality> PerScenario);
