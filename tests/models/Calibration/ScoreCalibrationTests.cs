using StreamDetect.Models.Calibration;

namespace StreamDetect.Models.Tests.Calibration;

public sealed class ScoreCalibrationTests
{
    [Fact]
    public void Calibrated_scores_are_minus_log10_of_the_normal_tail_and_keep_rising_beyond_the_sample()
    {
        var random = new Random(1);
        var normal = Enumerable.Range(0, 100_000).Select(_ => random.NextDouble() * 10).ToArray();
        var calibration = ScoreCalibration.Fit(normal);

        Assert.Equal(0, calibration.Map(-1), 3);
        Assert.Equal(-Math.Log10(0.5), calibration.Map(5), 1);
        Assert.Equal(3, calibration.Map(9.99), 1);
        Assert.Equal(calibration.Survival(9.99), normal.Count(v => v >= 9.99) / 100_000.0, 4);
        double last = double.NegativeInfinity;
        foreach (double raw in Enumerable.Range(0, 200).Select(i => i * 0.1))
        {
            double score = calibration.Map(raw);
            Assert.True(score >= last, $"not monotone at {raw}");
            last = score;
        }
        Assert.True(calibration.Map(20) > calibration.Map(11) + 1, "scores beyond the sample must keep rising");
        Assert.Equal(0.01, calibration.Survival(calibration.RawAtSurvival(0.01)), 4);
    }

    [Fact]
    public void The_alert_threshold_for_a_longer_period_is_higher()
    {
        var random = new Random(2);
        var threshold = AlertThreshold.Fit(Enumerable.Range(0, 20_000).Select(_ => -Math.Log10(random.NextDouble())));
        double oneDay = threshold.For(0.01, 1), fourDays = threshold.For(0.01, 4);
        Assert.Equal(2, oneDay, 1);
        Assert.True(fourDays > oneDay);
        Assert.Equal(-Math.Log10(1 - Math.Pow(0.99, 0.25)), fourDays, 1);
    }

    [Fact]
    public void The_search_finds_the_first_value_not_below_the_raw_score_as_a_scan_does()
    {
        var random = new Random(3);
        for (int length = 0; length < 140; length++)
        {
            // Few distinct values: runs of equal ones.
            var sorted = Enumerable.Range(0, length).Select(_ => (double)random.Next(12)).Order().ToArray();
            for (double value = -1; value <= 13; value += 0.5)
            {
                int expected = 0;
                while (expected < sorted.Length && sorted[expected] < value) expected++;
                Assert.Equal(expected, ScoreCalibration.LowerBound(sorted, value));
                var blocks = ScoreCalibration.BlockStarts(sorted);
                Assert.Equal(expected, ScoreCalibration.LowerBound(sorted, blocks, value));
            }
        }
    }

    [Fact]
    public void Identity_calibration_passes_raw_scores_through()
    {
        Assert.True(ScoreCalibration.Identity.IsIdentity);
        Assert.Equal(12.5, ScoreCalibration.Identity.Map(12.5));
    }
}
