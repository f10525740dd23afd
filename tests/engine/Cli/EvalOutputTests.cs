using System.Text.Json;
using StreamDetect.Engine.Cli;
using StreamDetect.Models.Evaluation;

namespace StreamDetect.Engine.Tests.Cli;

/// <summary>Plain `eval` names the decision mode and puts the measured normal alert rate next to the target, in text and JSON.</summary>
public sealed class EvalOutputTests
{
    private static EvaluationReport Report()
    {
        var users = DetectionMetrics.Compute([0.1, 0.2, 3.5, 4.0, 5.0], [0, 0, 0, 1, 1], threshold: 3.0);
        var overall = new ScenarioMetrics("overall", users, users);
        return new EvaluationReport("gru", "abc", DateTime.UnixEpoch, DateTime.UnixEpoch.AddDays(2), 2, AlertRate: 0.005, Threshold: 3.0,
            UsersScored: 5, EventsScored: 40, NormalUserAlertRate: 0.008, ScoringSeconds: 1, overall, [])
        {
            Decision = "top-9 (DeepLog: an event outside the model's 9 most likely next events alerts)",
            ActiveDaysPerEntity = 1.25,
            PerActiveDayRate = 0.0041,
            PerDay = [new DayMetrics(3, "2026-11-04", 2000, 9, 20, 16), new DayMetrics(4, "2026-11-05", 1900, 0, 0, 0)],
        };
    }

    [Fact]
    public void The_text_and_the_json_carry_the_period_day_by_day()
    {
        string text = EvalCommand.Format(Report());
        Assert.Contains("   3 2026-11-04     2000        9   0.450        20       16   0.800", text, StringComparison.Ordinal);
        Assert.Contains("   4 2026-11-05     1900        0   0.000         0        0       -", text, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(Report(), EvalCommand.ReportJson));
        var days = json.RootElement.GetProperty("per_day");
        Assert.Equal(2, days.GetArrayLength());
        var day = days[0];
        Assert.Equal(3, day.GetProperty("day").GetInt32());
        Assert.Equal("2026-11-04", day.GetProperty("date").GetString());
        Assert.Equal(2000, day.GetProperty("normal_users").GetInt32());
        Assert.Equal(9, day.GetProperty("normal_users_alerted").GetInt32());
        Assert.Equal(0.0045, day.GetProperty("normal_alert_rate").GetDouble(), 12);
        Assert.Equal(20, day.GetProperty("anomalous_users").GetInt32());
        Assert.Equal(0.8, day.GetProperty("recall").GetDouble(), 12);
        Assert.Equal("NaN", days[1].GetProperty("recall").GetString());
    }

    [Fact]
    public void The_text_names_the_mode_and_shows_target_and_measured_normal_alert_rates()
    {
        string text = EvalCommand.Format(Report());

        Assert.Contains("decision: top-9 (DeepLog", text, StringComparison.Ordinal);
        Assert.Contains("normal alert rate: target 0.50 % of normal entities over their active days (1.25 active days per entity, 0.410 % per active day); " +
                        "measured 0.80 % (1.60 x target)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_carries_the_mode_the_target_and_the_measured_rate()
    {
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(Report(), EvalCommand.ReportJson));
        var root = json.RootElement;

        Assert.StartsWith("top-9", root.GetProperty("decision").GetString(), StringComparison.Ordinal);
        Assert.Equal(0.005, root.GetProperty("alertRate").GetDouble());
        Assert.Equal(0.008, root.GetProperty("normalUserAlertRate").GetDouble());
        Assert.Equal(1.6, root.GetProperty("alertRateRatio").GetDouble(), 9);
        Assert.Equal(1.25, root.GetProperty("activeDaysPerEntity").GetDouble());
    }

    [Fact]
    public void The_text_and_the_json_say_how_many_calibration_entity_days_the_target_stands_for()
    {
        var fine = Report() with { CalibrationEntityDays = 473, PerActiveDayRate = 0.001 };
        string text = EvalCommand.Format(fine);
        Assert.Contains("calibration sample: 473 normal validation entity-days; the target per active day is 0.5 of them " +
                        "(finer than the sample resolves, 1 of 473 = 0.211 %: the threshold is extrapolated beyond its largest value", text, StringComparison.Ordinal);

        string few = EvalCommand.Format(Report() with { CalibrationEntityDays = 473, PerActiveDayRate = 0.005 });
        Assert.Contains("the target per active day is 2.4 of them (the threshold rests on the sample's few highest values", few, StringComparison.Ordinal);

        string many = EvalCommand.Format(Report() with { CalibrationEntityDays = 20_000, PerActiveDayRate = 0.005 });
        Assert.Contains("calibration sample: 20000 normal validation entity-days; the target per active day is 100.0 of them" + Environment.NewLine, many, StringComparison.Ordinal);

        // A given threshold or a decision rule: no calibration sample decides, and the line is left out.
        Assert.DoesNotContain("calibration sample", EvalCommand.Format(Report()), StringComparison.Ordinal);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(fine, EvalCommand.ReportJson));
        Assert.Equal(473, json.RootElement.GetProperty("calibrationEntityDays").GetInt64());
        Assert.Equal(0.473, json.RootElement.GetProperty("calibrationEntityDaysAtTarget").GetDouble(), 9);
    }
}
