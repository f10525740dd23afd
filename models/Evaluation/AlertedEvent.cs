namespace StreamDetect.Models.Evaluation;

/// <summary>An evaluated event that scored at or above the threshold.</summary>
/// <param name="TimestampMs">The event's time.</param>
/// <param name="Label">The event's label (1: anomalous, a true alert; 0: a false alert).</param>
public readonly record struct AlertedEvent(long TimestampMs, int Label);
