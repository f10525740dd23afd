using StreamDetect.Models.Calibration;

namespace StreamDetect.Models.Tests.Calibration;

public sealed class EntityActivityTests
{
    private const long Day = 86_400_000L;
    private static readonly long T0 = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void An_entity_that_lives_minutes_is_one_active_day_whatever_the_span_of_the_data()
    {
        // 100 sessions of ten minutes spread over five days.
        var sessions = Enumerable.Range(0, 100).Select(i => Enumerable.Range(0, 10).Select(m => T0 + i * (5 * Day / 100) + m * 60_000L)).ToList();
        var activity = EntityActivity.Measure(sessions);

        Assert.Equal(100, activity.Entities);
        Assert.Equal(1, activity.MeanActiveDays);
        Assert.Equal(5, activity.WindowDays);
        Assert.Equal(0.005, activity.PerActiveDayRate(0.005), 12);
        // Over a week, a session is still one active day.
        Assert.Equal(0.005, activity.Over(7).PerActiveDayRate(0.005), 12);
    }

    [Fact]
    public void Long_lived_entities_are_active_the_same_share_of_days_over_another_period()
    {
        // 50 users active on every other day of a 4-day window (days 0 and 2, or 1 and 3): each spans more than half of it.
        var users = Enumerable.Range(0, 50).Select(u => new[] { T0 + (u % 2) * Day + 3_600_000L, T0 + (u % 2 + 2) * Day + 3_600_000L }.AsEnumerable());
        var activity = EntityActivity.Measure(users);

        Assert.Equal(2, activity.MeanActiveDays);
        Assert.Equal(4, activity.WindowDays);
        // Two active days: 1 - (1 - p)^2 = r.
        Assert.Equal(-double.ExpM1(double.LogP1(-0.01) / 2), activity.PerActiveDayRate(0.01), 12);
        // Over 8 days they are active 4 days.
        Assert.Equal(4, activity.Over(8).MeanActiveDays, 12);
        Assert.Equal(-double.ExpM1(double.LogP1(-0.01) / 4), activity.Over(8).PerActiveDayRate(0.01), 12);
    }

    [Fact]
    public void A_mix_of_entities_meets_the_rate_on_average_over_their_active_days()
    {
        // 900 one-day entities and 100 active 10 days.
        var entities = Enumerable.Range(0, 900).Select(i => new[] { T0 + i * 1000L }.AsEnumerable())
            .Concat(Enumerable.Range(0, 100).Select(u => Enumerable.Range(0, 10).Select(d => T0 + d * Day)));
        var activity = EntityActivity.Measure(entities);
        double p = activity.PerActiveDayRate(0.02);

        double alerted = (900 * p + 100 * -double.ExpM1(10 * double.LogP1(-p))) / 1000;
        Assert.Equal(0.02, alerted, 9);
        Assert.InRange(p, 0.02 / 10, 0.02);
    }

    [Fact]
    public void Every_day_is_the_rule_of_a_calendar_period()
    {
        var activity = EntityActivity.EveryDay(7);
        Assert.Equal(-double.ExpM1(double.LogP1(-0.005) / 7), activity.PerActiveDayRate(0.005), 12);
        Assert.Equal(3, activity.Over(3).MeanActiveDays);
    }

    [Fact]
    public void It_survives_a_round_trip_through_the_model_file()
    {
        var entities = Enumerable.Range(0, 30).Select(i => new[] { T0 + i * 60_000L }.AsEnumerable())
            .Concat(Enumerable.Range(0, 20).Select(u => Enumerable.Range(0, 3).Select(d => T0 + d * Day + u)));
        var activity = EntityActivity.Measure(entities);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) activity.WriteTo(writer);
        stream.Position = 0;
        var read = EntityActivity.ReadFrom(new BinaryReader(stream));

        Assert.Equal(activity.Entities, read.Entities);
        Assert.Equal(activity.MeanActiveDays, read.MeanActiveDays);
        Assert.Equal(activity.Over(9).MeanActiveDays, read.Over(9).MeanActiveDays);
    }
}
