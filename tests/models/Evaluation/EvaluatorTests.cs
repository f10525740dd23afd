using StreamDetect.Models.Dataset;
using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Events;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Evaluation;

public sealed class EvaluatorTests(TrainedDetectors trained)
{
    [Fact]
    public void Metrics_are_reported_per_scenario_with_all_normal_users_as_negatives()
    {
        var truth = new TruthTable(trained.Data.Users.ToDictionary(u => u.UserId,
            u => !u.UserId.StartsWith("a-", StringComparison.Ordinal) ? "normal" : int.Parse(u.UserId[2..]) % 2 == 0 ? "scraper" : "card_testing"));
        long from = SyntheticTraffic.T0 + 2 * 86_400_000L;
        var result = Evaluator.Evaluate(trained.Get("zscore"), trained.Data, truth, new EvaluationOptions(from), TestContext.Current.CancellationToken);
        var report = result.Report;

        Assert.Equal(["card_testing", "scraper"], report.Scenarios.Select(s => s.Scenario));
        Assert.All(report.Scenarios, s => Assert.Equal(
            result.Users.Count(u => u.Scenario == "normal" || u.Scenario == s.Scenario), s.Users.Positives + s.Users.Negatives));
        Assert.Equal(report.Overall.Users.Positives, report.Scenarios.Sum(s => s.Users.Positives));
        Assert.Equal(2, report.PeriodDays);
        Assert.All(result.Users, u => Assert.Equal(report.Threshold, u.Threshold));
        // Only events from the evaluated period are scored; users without such events are left out.
        Assert.True(report.EventsScored < trained.Data.EventCount);
        Assert.True(report.Overall.Events.Positives > 0);
        // The alerted events (for the report's alerts over time) are the event-level confusion's alerts, inside the period.
        var confusion = report.Overall.Events.Confusion;
        Assert.Equal(confusion.TruePositives, result.Alerts.Count(a => a.Label == 1));
        Assert.Equal(confusion.FalsePositives, result.Alerts.Count(a => a.Label == 0));
        Assert.All(result.Alerts, a => Assert.InRange(a.TimestampMs, from, trained.Data.LastEventMs));

        // Day by day: only days of the evaluated period; every evaluated normal user is active on some day, and one that
        // alerted over the period alerted on some day; every anomalous user is anomalous on some day.
        var perDay = report.PerDay;
        Assert.NotEmpty(perDay);
        long dayZero = trained.Data.FirstEventMs - trained.Data.FirstEventMs % 86_400_000;
        Assert.All(perDay, d => Assert.True(dayZero + (d.Day + 1) * 86_400_000L > from, $"day {d.Day} is before the evaluated period"));
        Assert.Equal(perDay.Select(d => d.Day).Order(), perDay.Select(d => d.Day));
        var normal = result.Users.Where(u => u.Scenario == "normal").ToList();
        Assert.InRange(perDay.Sum(d => d.NormalUsers), normal.Count, normal.Count * perDay.Count);
        Assert.InRange(perDay.Sum(d => d.NormalUsersAlerted), normal.Count(u => u.Score >= u.Threshold), int.MaxValue);
        Assert.InRange((long)perDay.Sum(d => d.AnomalousUsers), report.Overall.Users.Positives, long.MaxValue);
        Assert.All(perDay, d => Assert.InRange(d.AnomalousUsersAlerted, 0, d.AnomalousUsers));
    }
    [Fact]
    public void A_user_whose_attack_ended_before_the_period_is_left_out_of_both_classes_and_counted()
    {
        // An attacker whose labelled events all lie before the evaluated period, then ordinary events inside it: its
        // window (and profile) at the period's start still hold the attack, so it is neither clean normal nor an attacker.
        var events = SyntheticTraffic.Shoppers(normalUsers: 60, anomalousUsers: 6, days: 4, seed: 5);
        var firstAttacker = events.Where(e => e.Label == 1).GroupBy(e => e.UserId).MinBy(g => g.Max(e => e.TimestampMs))!;
        long from = firstAttacker.Max(e => e.TimestampMs) + 3_600_000L;
        Assert.Contains(events, e => e.Label == 1 && e.TimestampMs >= from); // attackers inside the period remain
        for (int k = 1; k <= 10; k++)
            events.Add(new UserEvent(firstAttacker.Key, from + k * 60_000L, k % 3 == 0 ? "search" : "view") { Label = 0 });
        var data = DatasetBuilder.Build(events.OrderBy(e => e.TimestampMs).ToList(), sessions: SessionSettings.Default);
        var truth = new TruthTable(data.Users.ToDictionary(u => u.UserId, u => u.UserId.StartsWith("a-", StringComparison.Ordinal) ? "attack" : "normal"));

        var result = Evaluator.Evaluate(trained.Get("zscore"), data, truth, new EvaluationOptions(from), TestContext.Current.CancellationToken);
        var report = result.Report;

        Assert.Equal(1, report.PastAttackers);
        Assert.Equal(1, report.PastAttackersInWindow);
        Assert.DoesNotContain(result.Users, u => u.UserId == firstAttacker.Key);
        Assert.All(result.Users, u => Assert.Equal(u.Scenario == "normal" ? 0 : 1, u.Label));
        Assert.Equal(result.Users.Count, report.Overall.Users.Positives + report.Overall.Users.Negatives);
        int pastEntries = data.Users.Single(u => u.UserId == firstAttacker.Key).Entries.Count(e => e.TimestampMs >= from);
        Assert.True(pastEntries >= 10);
        Assert.Equal(report.EventsScored - pastEntries, report.Overall.Events.Positives + report.Overall.Events.Negatives);
    }

    [Fact]
    public void A_users_score_names_the_entry_it_came_from_and_what_each_member_said_of_it()
    {
        var truth = new TruthTable(trained.Data.Users.ToDictionary(u => u.UserId, u => u.UserId.StartsWith("a-", StringComparison.Ordinal) ? "anomalous" : "normal"));
        long from = SyntheticTraffic.T0 + 2 * 86_400_000L;
        var ensemble = trained.Get("ensemble");
        var result = Evaluator.Evaluate(ensemble, trained.Data, truth, new EvaluationOptions(from), TestContext.Current.CancellationToken);
        var members = ((StreamDetect.Models.Ensemble.EnsembleDetector)ensemble).Members.Select(m => m.Name).Order().ToArray();

        Assert.All(result.Users, u =>
        {
            var source = Assert.IsType<UserScoreSource>(u.Source);
            Assert.InRange(source.TimestampMs, from, trained.Data.LastEventMs);
            Assert.Equal(members, source.Members.Keys.Order().ToArray());
            Assert.All(source.Members.Values, v => Assert.True(double.IsFinite(v)));
            var user = trained.Data.Users.Single(x => x.UserId == u.UserId);
            Assert.Contains(user.Entries, e => e.Type == source.Type && e.TimestampMs == source.TimestampMs);
        });
    }

    [Fact]
    public void The_report_carries_the_calibration_sample_the_threshold_came_from_and_none_for_a_given_threshold()
    {
        long from = SyntheticTraffic.T0 + 2 * 86_400_000L;
        var detector = trained.Get("zscore");
        var cancel = TestContext.Current.CancellationToken;

        var atRate = Evaluator.Evaluate(detector, trained.Data, TruthTable.Empty, new EvaluationOptions(from, AlertRate: 0.01), cancel).Report;
        var finer = Evaluator.Evaluate(detector, trained.Data, TruthTable.Empty, new EvaluationOptions(from, AlertRate: 0.1 / detector.Threshold.UserDays), cancel).Report;
        var given = Evaluator.Evaluate(detector, trained.Data, TruthTable.Empty, new EvaluationOptions(from, Threshold: 3.0), cancel).Report;

        Assert.True(detector.Threshold.UserDays > 0);
        Assert.Equal(detector.Threshold.UserDays, atRate.CalibrationEntityDays);
        Assert.Equal(atRate.PerActiveDayRate * detector.Threshold.UserDays, atRate.CalibrationEntityDaysAtTarget, 9);
        Assert.True(finer.CalibrationEntityDaysAtTarget < 1, $"{finer.CalibrationEntityDaysAtTarget} of {finer.CalibrationEntityDays}");
        Assert.Equal(0, given.CalibrationEntityDays);
        Assert.Equal(0, given.CalibrationEntityDaysAtTarget);
    }
}
