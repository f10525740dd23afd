using StreamDetect.Models.Calibration;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Calibration;

/// <summary>
/// Beyond the validation sample a calibration extrapolates. A score that is a log-probability (a sequence model's
/// surprise in nats, an ensemble's max of calibrated -log10 scores) cannot be much rarer for one more unit than its
/// meaning allows; an exponential fitted to a compact top of the sample claimed thousands of times rarer per nat, which
/// put a normal user's single 8-nat surprise ("1 in 10^9") above attackers that the feature members scored at 10^-7.
/// </summary>
public sealed class TailScaleFloorTests(TrainedDetectors trained)
{
    [Fact]
    public void A_floor_bounds_how_fast_the_calibrated_score_rises_beyond_the_sample()
    {
        // A compact sample: 1000 values in [5, 6), its top excesses tiny.
        var sample = Enumerable.Range(0, 1000).Select(i => 5 + i / 1000.0).ToArray();
        var fitted = ScoreCalibration.Fit(sample);
        var floored = ScoreCalibration.Fit(sample, minTailScale: 1);

        double top = fitted.RawAtSurvival(1.0 / fitted.SampleSize);
        Assert.True(fitted.Map(top + 1) - fitted.Map(top) > 10, "the unfloored fit should claim a light tail on this sample");
        Assert.Equal(1 / Math.Log(10), floored.Map(top + 1) - floored.Map(top), 9);
        // Within the sample nothing changes.
        foreach (double raw in new[] { 5.0, 5.5, 5.99 }) Assert.Equal(fitted.Map(raw), floored.Map(raw), 12);
    }

    [Theory]
    [InlineData("gru", 1.0)]        // one nat of surprise: at most e times rarer
    [InlineData("lstm", 1.0)]
    [InlineData("ensemble", 2.302585092994046)] // one unit of a member's calibrated score: at most 10 times rarer
    public void A_log_probability_scores_calibration_rises_at_most_one_e_fold_per_unit_of_its_meaning(string model, double eFoldsPerUnit)
    {
        var detector = trained.Get(model);
        var calibration = detector.Calibration;
        // From just beyond the sample's top (ties at the top make a step there, which is the sample's own word).
        double beyond = calibration.RawAtSurvival(1.0 / calibration.SampleSize) + 1e-6;
        for (int step = 1; step <= 5; step++)
        {
            double rise = calibration.Map(beyond + step) - calibration.Map(beyond);
            Assert.True(rise <= step * eFoldsPerUnit / Math.Log(10) + 1e-6,
                $"{model}: {step} raw unit(s) beyond the sample's top ({beyond:F3}) raise the calibrated score by {rise:F3} decades");
        }
    }
}
