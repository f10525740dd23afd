namespace StreamDetect.Models.Detection;

/// <summary>One scored validation event: who, when, the raw score (and the members' raw scores for an ensemble).</summary>
internal readonly record struct CalibrationSample(int User, long TimestampMs, double RawScore, double[]? MemberRawScores)
{
    /// <summary>The UTC day of the event.</summary>
    public long Day => Calibration.EntityActivity.DayOf(TimestampMs);

    /// <summary>A calibration of the samples' raw scores on the basis the options ask for.</summary>
    /// <param name="minTailScale">See <see cref="Calibration.ScoreCalibration.Fit"/>.</param>
    public static Calibration.ScoreCalibration Fit(IReadOnlyList<CalibrationSample> samples, CalibrationOptions options, double minTailScale = 0) =>
        Calibration.ScoreCalibration.Fit(
            options.Basis == CalibrationBasis.UserDay ? UserDayMaxima(samples, s => s.RawScore) : samples.Select(s => s.RawScore),
            options.Points, options.TailFraction, minTailScale);

    /// <summary>The highest calibrated score of each (user, day).</summary>
    public static IEnumerable<double> UserDayMaxima(IReadOnlyList<CalibrationSample> samples, Func<double, double> calibrate) =>
        UserDayMaxima(samples, s => calibrate(s.RawScore));

    public static IEnumerable<double> UserDayMaxima(IReadOnlyList<CalibrationSample> samples, Func<CalibrationSample, double> score)
    {
        var maxima = new Dictionary<(int, long), double>();
        foreach (var s in samples)
        {
            double value = score(s);
            var key = (s.User, s.Day);
            maxima[key] = maxima.TryGetValue(key, out double current) ? Math.Max(current, value) : value;
        }
        return maxima.Values;
    }
}
