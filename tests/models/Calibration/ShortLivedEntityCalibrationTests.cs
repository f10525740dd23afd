using StreamDetect.Models.Calibration;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Calibration;

/// <summary>
/// Entities that live minutes (one session each) over several days: trained and calibrated on normal sessions,
/// evaluated on fresh normal sessions, the measured alert rate meets the target within a factor of 2, where the
/// rule of the calendar span (every entity active every day of the data) alerted far fewer.
/// </summary>
public sealed class ShortLivedEntityCalibrationTests
{
    private const int Days = 4;
    private const double Target = 0.02;

    [Theory]
    [InlineData("zscore")]
    [InlineData("gru")]
    public void Calibration_on_entities_that_live_minutes_meets_its_target_alert_rate_within_a_factor_of_2(string model)
    {
        var training = DatasetBuilder.Build(SyntheticTraffic.SessionEntities(sessions: 5000, days: Days, seed: 21));
        var evaluated = DatasetBuilder.Build(SyntheticTraffic.SessionEntities(sessions: 5000, days: Days, seed: 22));
        var options = new TrainingOptions
        {
            Device = "cpu",
            Models = ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.GruKind, p => p with { Epochs = 2 }),
        };
        using var detector = DetectorTrainer.Train(model, training, options, cancellation: TestContext.Current.CancellationToken);

        var result = Evaluator.Evaluate(detector, evaluated, TruthTable.Empty, new EvaluationOptions(AlertRate: Target), TestContext.Current.CancellationToken);
        var report = result.Report;

        Assert.InRange(report.PeriodDays, Days, Days + 1); // the calendar span of the data (a last session may end past it)
        Assert.InRange(report.ActiveDaysPerEntity, 1, 1.05); // a session crosses midnight now and then
        Assert.True(report.NormalUserAlertRate >= Target / 2 && report.NormalUserAlertRate <= Target * 2,
            $"{model}: measured normal alert rate {report.NormalUserAlertRate:P2}, target {Target:P2}, threshold {report.Threshold:F3}");

        // The calendar-span rule (every entity active every day of the data's span) alerted about a quarter of the target.
        double calendarThreshold = detector.Threshold.For(Target, EntityActivity.EveryDay(Days));
        double calendarRate = (double)result.Users.Count(u => u.Score >= calendarThreshold) / result.Users.Count;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{model}: target {Target:P2}; per active entity {report.NormalUserAlertRate:P2}; calendar-span rule {calendarRate:P2}");
        Assert.True(calendarRate < Target / 2,
            $"{model}: the calendar-span rule alerted {calendarRate:P2}, per active entity {report.NormalUserAlertRate:P2}");
    }
}
