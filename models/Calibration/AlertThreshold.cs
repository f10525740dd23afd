namespace StreamDetect.Models.Calibration;

/// <summary>
/// Where to alert, on the calibrated score scale, for a wanted alert rate on normal entities. Fitted on
/// the highest calibrated score of each normal validation entity on each day it was active (never on
/// test data). A target "share r of normal entities alerted over the period" is met per active entity:
/// it becomes a per-active-day rate through the entities' active days (<see cref="EntityActivity"/>:
/// measured on the evaluated data, or the calibration data's activity stretched to the period), and the
/// threshold is the daily maximum whose share of the sample at or above it is nearest to that rate (in
/// ratio: <see cref="ScoreCalibration.NearestSampleAtSurvival"/>), extrapolated by an exponential tail
/// beyond the sample. A detector whose decision is a rule rather than a rate (a sequence model
/// in top-k mode) carries a fixed <see cref="DecisionScore"/> instead: every rate gives that score.
/// </summary>
public sealed class AlertThreshold
{
    private readonly ScoreCalibration? _dailyMaxima;

    private AlertThreshold(ScoreCalibration? dailyMaxima, EntityActivity? activity, double? decisionScore)
    {
        _dailyMaxima = dailyMaxima;
        Activity = activity;
        DecisionScore = decisionScore;
    }

    /// <summary>No fitted threshold (the detector was not calibrated).</summary>
    public static AlertThreshold None { get; } = new(null, null, null);

    public bool IsFitted => _dailyMaxima is not null;

    /// <summary>How many entity-days the threshold was fitted on.</summary>
    public long UserDays => _dailyMaxima?.SampleSize ?? 0;

    /// <summary>The activity of the calibration entities (null for a model calibrated before activity was measured).</summary>
    public EntityActivity? Activity { get; }

    /// <summary>The calibrated score of the detector's own decision rule, used whatever the wanted rate (null: the rate decides).</summary>
    public double? DecisionScore { get; }

    public static AlertThreshold Fit(IEnumerable<double> userDayMaxima, EntityActivity? activity = null, double? decisionScore = null) =>
        new(ScoreCalibration.Fit(userDayMaxima, points: 2048, tailFraction: 0.05), activity, decisionScore);

    /// <summary>The score above which a share <paramref name="alertRate"/> of normal entities alerts at least
    /// once over their active days (<paramref name="activity"/>); or the <see cref="DecisionScore"/>.</summary>
    public double For(double alertRate, EntityActivity activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        if (_dailyMaxima is null) throw new InvalidOperationException("the detector has no fitted alert threshold");
        return DecisionScore ?? AtUserDayRate(activity.PerActiveDayRate(alertRate));
    }

    /// <summary>
    /// <see cref="For(double, EntityActivity)"/> over a period of <paramref name="periodDays"/> calendar days
    /// whose entities' activity is unknown: the calibration entities' activity stretched to the period
    /// (<see cref="EntityActivity.Over"/>), or, for a model without it, every entity active every day.
    /// </summary>
    public double For(double alertRate, double periodDays = 1) =>
        For(alertRate, Activity?.Over(periodDays) ?? EntityActivity.EveryDay(periodDays));

    /// <summary>The score a share <paramref name="perDayRate"/> of normal entity-days reaches (no decision rule applied):
    /// what online thresholds compare live traffic with.</summary>
    public double AtUserDayRate(double perDayRate)
    {
        if (_dailyMaxima is null) throw new InvalidOperationException("the detector has no fitted alert threshold");
        if (!(perDayRate > 0 && perDayRate < 1)) throw new ArgumentOutOfRangeException(nameof(perDayRate), perDayRate, "must be in (0, 1)");
        return _dailyMaxima.NearestSampleAtSurvival(perDayRate);
    }

    // Format: 0 = none; 1 = daily maxima only (files written before activity was measured); 2 = daily maxima,
    // activity (or none), decision score (or none).
    public void WriteTo(BinaryWriter writer)
    {
        if (_dailyMaxima is null)
        {
            writer.Write((byte)0);
            return;
        }
        writer.Write((byte)2);
        _dailyMaxima.WriteTo(writer);
        writer.Write(Activity is not null);
        Activity?.WriteTo(writer);
        writer.Write(DecisionScore.HasValue);
        if (DecisionScore is double score) writer.Write(score);
    }

    public static AlertThreshold ReadFrom(BinaryReader reader)
    {
        byte format = reader.ReadByte();
        switch (format)
        {
            case 0:
                return None;
            case 1:
                return new AlertThreshold(ScoreCalibration.ReadFrom(reader), null, null);
            case 2:
                var maxima = ScoreCalibration.ReadFrom(reader);
                var activity = reader.ReadBoolean() ? EntityActivity.ReadFrom(reader) : null;
                double? decision = reader.ReadBoolean() ? reader.ReadDouble() : null;
                if (decision is double d && !double.IsFinite(d)) throw new InvalidDataException("threshold decision score is not finite");
                return new AlertThreshold(maxima, activity, decision);
            default:
                throw new InvalidDataException($"threshold format {format} is not known");
        }
    }
}
