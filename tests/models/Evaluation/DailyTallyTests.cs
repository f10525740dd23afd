using StreamDetect.Models.Evaluation;

namespace StreamDetect.Models.Tests.Evaluation;

public sealed class DailyTallyTests
{
    private const long DayMs = 86_400_000;
    private static readonly long Midnight = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void Days_are_UTC_days_counted_from_the_midnight_of_the_first_event()
    {
        var tally = new DailyTally(Midnight + 15 * 3_600_000); // first event at 15:00 of day 0
        tally.Add(0, Midnight + 2 * DayMs - 1, alerted: false, anomalous: false); // the last millisecond of day 1
        tally.Add(0, Midnight + 2 * DayMs, alerted: false, anomalous: false); // the first of day 2

        var days = tally.Days(_ => true);

        Assert.Equal([1, 2], days.Select(d => d.Day));
        Assert.Equal(["2026-11-02", "2026-11-03"], days.Select(d => d.Date));
        Assert.All(days, d => Assert.Equal(1, d.NormalUsers));
    }

    [Fact]
    public void A_user_counts_once_a_day_and_alerts_that_day_when_any_of_its_events_did()
    {
        var tally = new DailyTally(Midnight);
        for (int i = 0; i < 5; i++) tally.Add(7, Midnight + i * 60_000, alerted: i == 3, anomalous: false);
        tally.Add(8, Midnight + 1000, alerted: false, anomalous: false);
        tally.Add(7, Midnight + DayMs + 1000, alerted: false, anomalous: false);

        var days = tally.Days(_ => true);

        Assert.Equal(new DayMetrics(0, "2026-11-01", 2, 1, 0, 0), days[0]);
        Assert.Equal(0.5, days[0].NormalAlertRate);
        Assert.Equal(new DayMetrics(1, "2026-11-02", 1, 0, 0, 0), days[1]);
        Assert.True(double.IsNaN(days[1].Recall), "no anomalous user that day: no recall");
    }

    [Fact]
    public void An_anomalous_event_makes_the_user_day_count_for_recall_and_other_days_of_non_normal_users_count_for_nothing()
    {
        var tally = new DailyTally(Midnight);
        // User 1 (a takeover victim): normal on day 0, its episode on day 1 (alerted on its normal-looking first event).
        tally.Add(1, Midnight + 1000, alerted: true, anomalous: false);
        tally.Add(1, Midnight + DayMs + 1000, alerted: true, anomalous: false);
        tally.Add(1, Midnight + DayMs + 2000, alerted: false, anomalous: true);
        // User 2: anomalous on day 1, never alerted. User 3: normal, alerted on day 1.
        tally.Add(2, Midnight + DayMs + 5000, alerted: false, anomalous: true);
        tally.Add(3, Midnight + DayMs + 9000, alerted: true, anomalous: false);

        var days = tally.Days(user => user == 3);

        Assert.Equal(new DayMetrics(0, "2026-11-01", 0, 0, 0, 0), days[0]); // user 1 is not a normal user
        Assert.Equal(new DayMetrics(1, "2026-11-02", 1, 1, 2, 1), days[1]);
        Assert.Equal(0.5, days[1].Recall);
        Assert.Equal(1.0, days[1].NormalAlertRate);
    }
}
