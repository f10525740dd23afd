namespace StreamDetect.Stages.Kafka;

/// <summary>
/// An analyst's verdict on a user (and optionally on one alert): 1 = really anomalous, 0 = false alarm.
/// Read from the feedback topic to adjust thresholds.
/// </summary>
/// <param name="UserId">The user judged.</param>
/// <param name="Label">0 (normal) or 1 (anomalous).</param>
/// <param name="AlertId">The alert judged, when the verdict is about one.</param>
public sealed record FeedbackLabel(string UserId, int Label, string? AlertId);
