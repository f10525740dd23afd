namespace StreamDetect.Engine.Pipeline;

/// <summary>Detection of one scenario's users (against all normal users).</summary>
public sealed record ScenarioQuality(int Users, int Detected, double Precision, double Recall, double F1);
