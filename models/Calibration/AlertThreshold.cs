namespace StreamDetect.Models.Calibration;

/// <summary>
/// Where to alert, on the calibrated score scale, for a wanted alert rate on normal users. Fitted on
/// the highest calibrated score of each normal validation user on each day it was active (never on
/// test data). For a period of D days and an alert rate r per user, the per-day rate is
/// 1 - (1 - r)^(1/D) (days treated as independent, which errs towards fewer alerts), and the threshold
/// is that upper quantile of the daily maxima (exact within the sample, extrapolated by an exponential
/// tail beyond it).
/// </summary>
public sealed class AlertThreshold
{
    private readonly ScoreCalibration? _dailyMaxima;

    private AlertThreshold(ScoreCalibration? dailyMaxima) => _dailyMaxima = dailyMaxima;

    /// <summary>No fitted threshold (the detector was not calibrated).</summary>
    public static AlertThreshold None { get; } = new(null);

    public bool IsFitted => _dailyMaxima is not null;

    /// <summary>How many user-days the threshold was fitted on.</summary>
    public long UserDays => _dailyMaxima?.SampleSize ?? 0;

    public static AlertThreshold Fit(IEnumerable<double> userDayMaxima) =>
        new(ScoreCalibration.Fit(userDayMaxima, points: 2048, tailFraction: 0.05));

    /// <summary>The score above which a normal user alerts with probability <paramref name="alertRate"/>
    /// over <paramref name="periodDays"/> days.</summary>
    public double For(double alertRate, double periodDays = 1)
    {
        if (_dailyMaxima is null) throw new InvalidOperationException("the detector has no fitted alert threshold");
        if (!(alertRate > 0 && alertRate < 1)) throw new ArgumentOutOfRangeException(nameof(alertRate), alertRate, "must be in (0, 1)");
        double days = Math.Max(1, periodDays);
        double perDay = -double.ExpM1(double.LogP1(-alertRate) / days);
        return _dailyMaxima.RawAtSurvival(perDay);
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(_dailyMaxima is not null);
        _dailyMaxima?.WriteTo(writer);
    }

    public static AlertThreshold ReadFrom(BinaryReader reader) =>
        reader.ReadBoolean() ? new AlertThreshold(ScoreCalibration.ReadFrom(reader)) : None;
}
