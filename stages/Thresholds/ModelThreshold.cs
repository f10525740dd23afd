namespace StreamDetect.Stages.Thresholds;

/// <summary>
/// What a model's own calibration says about its thresholds (both on the calibrated scale, both fitted on
/// normal validation users' daily maximum scores).
/// </summary>
/// <param name="Alert">The score that alerts the wanted share of normal users over the period.</param>
/// <param name="Reference">
/// The score a share of <see cref="ThresholdSettings.ReferenceRate"/> of normal user-days reaches. Online
/// thresholds compare the live quantile at that (common) rate with this value to measure drift, which a
/// few percent of anomalous users cannot move; null when unknown.
/// </param>
public sealed record ModelThreshold(double Alert, double? Reference);
