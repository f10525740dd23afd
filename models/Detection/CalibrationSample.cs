namespace StreamDetect.Models.Detection;

/// <summary>One scored validation event: who, which day, the raw score (and the members' raw scores for an ensemble).</summary>
internal readonly record struct CalibrationSample(int User, long Day, double RawScore, double[]? MemberRawScores)
{
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
