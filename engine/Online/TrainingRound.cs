namespace StreamDetect.Engine.Online;

/// <summary>The figures of one fine-tuning round (time and samples, for the run report and `eval --online`).</summary>
/// <param name="StartedAtKey">The boundary whose earlier samples it learned from.</param>
/// <param name="Candidate">The candidate version it made (null when it failed).</param>
/// <param name="TrainingSeconds">Fine-tuning and calibration.</param>
/// <param name="GateSeconds">The offline gates.</param>
public sealed record TrainingRound(int Round, long StartedAtKey, string? Candidate, int Samples, int Users, int Steps,
    double TrainingSeconds, double GateSeconds, bool GatesPassed, string? Failure);
