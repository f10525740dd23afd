namespace StreamDetect.Engine.Pipeline;

/// <summary>What a run reports.</summary>
public sealed record RunOutcome(RunSummary Summary, TrainedModel? Model);
