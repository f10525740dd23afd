namespace StreamDetect.Models.Evaluation;

/// <summary>How to evaluate.</summary>
/// <param name="FromMs">Events before this time only warm up the users' state; later events are scored and evaluated.</param>
/// <param name="AlertRate">Wanted alert rate on normal users over the period; picks the detector's threshold.</param>
/// <param name="BatchSize">Users per scoring batch.</param>
/// <param name="Threshold">A fixed threshold instead of the detector's fitted one.</param>
public sealed record EvaluationOptions(long FromMs = long.MinValue, double AlertRate = 0.005, int BatchSize = 1024, double? Threshold = null);
