using StreamDetect.Models.Evaluation;
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
}
