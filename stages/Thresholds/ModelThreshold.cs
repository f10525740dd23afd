namespace StreamDetect.Stages.Thresholds;

/// <summary>
/// What a model's own calibration says about its thresholds (both on the calibrated scale, both fitted on
/// normal validation users' daily maximum scores).
/// </summary>
/// <param name="Alert">The score that alerts the wanted share of normal entities over their active days in the period
/// (or the score of the model's own decision rule, see <see cref="FollowsRule"/>).</param>
/// <param name="Reference">
/// The score a share of <see cref="ThresholdSettings.ReferenceRate"/> of normal user-days reaches. Online
/// thresholds compare the live quantile at that (common) rate with this value to measure drift, which a
/// few percent of anomalous users cannot move; null when unknown.
/// </param>
public sealed record ModelThreshold(double Alert, double? Reference)
{
    /// <summary>The per-active-day rate that meets the wanted alert rate over the entities' active days (the model's
    /// calibration entities' activity over the period); null: every entity taken as active every day of the period.
    /// The live quantile at this rate is the threshold when the model gives no <see cref="Reference"/>.</summary>
    public double? PerDayRate { get; init; }

    /// <summary>Whether <see cref="Alert"/> is the model's own decision rule (a sequence model's top-k: an event outside
    /// the k most likely), which online mode keeps instead of moving it with drift (feedback still nudges it).</summary>
    public bool FollowsRule { get; init; }
}
