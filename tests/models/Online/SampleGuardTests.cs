using StreamDetect.Models.Dataset;
using StreamDetect.Models.Events;
using StreamDetect.Models.Online;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Online;

public sealed class SampleGuardTests
{
    private static readonly long Hour = 3_600_000;
    private static readonly OnlineLearningOptions Options = new() { HoldBack = TimeSpan.FromHours(6), ScoreQuantile = 0.9 };
    private static readonly UserSequence[] Users = DatasetBuilder.Build(SyntheticTraffic.GrammarUsers(users: 60, cycles: 1, seed: 4)).Users.ToArray();

    /// <summary>A clearly normal sample of user <paramref name="user"/> at hour <paramref name="hour"/>.</summary>
    private static OnlineSample Normal(int user, long hour = 0, string? device = null, string? ip = null) =>
        new(Users[user], device, ip, SyntheticTraffic.T0 + hour * Hour, ChampionScore: 0.3, BaseScore: 0.4);

    [Fact]
    public void Guard_must_refuse_alerted_cooled_down_feedback_positive_and_high_scoring_samples_with_their_reason()
    {
        var guard = new SampleGuard(Options);
        // Score quantile 0.9: calibrated scores below -log10(0.1) = 1 are admitted.
        Assert.Equal(GuardVerdict.Alerted, guard.Offer(Normal(0) with { Alerted = true }));
        Assert.Equal(GuardVerdict.InCooldown, guard.Offer(Normal(1) with { InCooldown = true }));
        Assert.Equal(GuardVerdict.FeedbackPositive, guard.Offer(Normal(2) with { FeedbackPositive = true }));
        Assert.Equal(GuardVerdict.AboveChampionQuantile, guard.Offer(Normal(3) with { ChampionScore = 1.0 }));
        Assert.Equal(GuardVerdict.AboveBaseQuantile, guard.Offer(Normal(4) with { BaseScore = 1.2 }));
        Assert.Equal(GuardVerdict.AboveChampionQuantile, guard.Offer(Normal(5) with { ChampionScore = double.NaN }));
        Assert.Equal(GuardVerdict.HeldBack, guard.Offer(Normal(6)));

        foreach (var refusal in new[] { GuardVerdict.Alerted, GuardVerdict.InCooldown, GuardVerdict.FeedbackPositive, GuardVerdict.AboveBaseQuantile })
            Assert.Equal(1, guard.CountOf(refusal));
        Assert.Equal(2, guard.CountOf(GuardVerdict.AboveChampionQuantile));
        Assert.Equal(1, guard.Counts["HeldBack"]);
        guard.Advance(SyntheticTraffic.T0 + 6 * Hour);
        Assert.Equal([Users[6]], guard.Buffer.Samples.Select(s => s.Events));
    }

    [Fact]
    public void Buffered_samples_older_than_the_buffer_max_age_leave_it_and_the_newest_fill_the_room()
    {
        var guard = new SampleGuard(Options with { BufferMaxAge = TimeSpan.FromHours(12), BufferSize = 3 });
        for (int u = 0; u < 6; u++) guard.Offer(Normal(u, hour: 0));
        guard.Advance(SyntheticTraffic.T0 + 6 * Hour);
        Assert.Equal(3, guard.Buffer.TrafficCount);
        for (int u = 6; u < 9; u++) guard.Offer(Normal(u, hour: 7));
        // At hour 13 the hour-0 samples are 13 h old: they leave, and the hour-7 ones (6 h old) take the whole room.
        var released = guard.Advance(SyntheticTraffic.T0 + 13 * Hour);
        Assert.All(released, r => Assert.Equal(GuardVerdict.Admitted, r.Verdict));
        Assert.Equal(3, guard.Buffer.TrafficCount);
        Assert.All(guard.Buffer.Samples, s => Assert.Equal(SyntheticTraffic.T0 + 7 * Hour, s.EventTimeMs));
        Assert.Equal(0, guard.Buffer.CountOf(guard.Buffer.Samples.Count == 0 ? "" : Users[0].UserId));
        guard.Advance(SyntheticTraffic.T0 + 20 * Hour);
        Assert.Equal(0, guard.Buffer.TrafficCount);

        // Zero: kept however old.
        var keeping = new SampleGuard(Options with { BufferMaxAge = TimeSpan.Zero });
        keeping.Offer(Normal(0, hour: 0));
        keeping.Advance(SyntheticTraffic.T0 + 100 * Hour);
        Assert.Equal(1, keeping.Buffer.TrafficCount);
    }

    [Fact]
    public void Guard_must_hold_a_too_recent_sample_until_it_is_older_than_the_hold_back_delay()
    {
        var guard = new SampleGuard(Options);
        Assert.Equal(GuardVerdict.HeldBack, guard.Offer(Normal(0, hour: 10)));
        Assert.Empty(guard.Advance(SyntheticTraffic.T0 + 15 * Hour)); // 5 h old: too recent
        Assert.Equal(0, guard.Buffer.Count);
        Assert.Equal(1, guard.HeldCount);
        var released = guard.Advance(SyntheticTraffic.T0 + 16 * Hour); // 6 h old
        Assert.Equal(GuardVerdict.Admitted, Assert.Single(released).Verdict);
        Assert.Equal(1, guard.Buffer.Count);
        Assert.Equal(0, guard.HeldCount);
    }

    [Fact]
    public void Late_feedback_must_purge_a_users_held_and_admitted_samples_and_refuse_its_later_ones()
    {
        var guard = new SampleGuard(Options);
        guard.Offer(Normal(0, hour: 0));
        guard.Offer(Normal(1, hour: 0));
        guard.Advance(SyntheticTraffic.T0 + 6 * Hour);
        guard.Offer(Normal(0, hour: 5)); // user 0 again, still held
        Assert.Equal(2, guard.Buffer.Count);

        Assert.Equal(2, guard.Purge(Users[0].UserId));
        Assert.Equal(0, guard.HeldCount);
        Assert.Equal([Users[1].UserId], guard.Buffer.Samples.Select(s => s.UserId));
        Assert.Equal(GuardVerdict.FeedbackPositive, guard.Offer(Normal(0, hour: 20)));
        Assert.Equal(2, guard.CountOf(GuardVerdict.Purged));
    }

    [Fact]
    public void An_alert_must_purge_its_users_held_and_buffered_samples_and_quarantine_its_later_ones()
    {
        var guard = new SampleGuard(Options with { AlertQuarantine = TimeSpan.FromDays(3) });
        guard.Offer(Normal(0, hour: 0));
        guard.Offer(Normal(1, hour: 0));
        guard.Advance(SyntheticTraffic.T0 + 6 * Hour);
        Assert.Equal(GuardVerdict.HeldBack, guard.Offer(Normal(0, hour: 5)));

        // User 0 alerts at hour 8 (a slow poisoner's approach reached the threshold): what led up to it goes.
        Assert.Equal(2, guard.AlertRaised(Users[0].UserId, SyntheticTraffic.T0 + 8 * Hour));
        Assert.Equal(0, guard.HeldCount);
        Assert.Equal([Users[1].UserId], guard.Buffer.Samples.Select(s => s.UserId));
        Assert.Equal(2, guard.CountOf(GuardVerdict.Purged));
        // Its samples of the same period offered after the alert was told, and its later ones once the cooldown is over,
        // are refused until the quarantine ends; other users are not touched.
        Assert.Equal(GuardVerdict.Quarantined, guard.Offer(Normal(0, hour: 7)));
        Assert.Equal(GuardVerdict.Quarantined, guard.Offer(Normal(0, hour: 8 + 7)));
        Assert.Equal(GuardVerdict.Quarantined, guard.Offer(Normal(0, hour: 8 + 71)));
        Assert.Equal(GuardVerdict.HeldBack, guard.Offer(Normal(1, hour: 9)));
        // The alert and cooldown rules still name the reason first.
        Assert.Equal(GuardVerdict.InCooldown, guard.Offer(Normal(0, hour: 9) with { InCooldown = true }));
        Assert.Equal(3, guard.CountOf(GuardVerdict.Quarantined));
        guard.Advance(SyntheticTraffic.T0 + 80 * Hour);
        Assert.Equal(GuardVerdict.HeldBack, guard.Offer(Normal(0, hour: 8 + 72)));
    }

    [Fact]
    public void Without_a_quarantine_or_with_guards_off_an_alert_purges_nothing()
    {
        foreach (var options in new[] { Options with { AlertQuarantine = TimeSpan.Zero }, Options with { Guards = false } })
        {
            var guard = new SampleGuard(options with { HoldBack = TimeSpan.Zero });
            guard.Offer(Normal(0, hour: 0));
            guard.Advance(SyntheticTraffic.T0);
            Assert.Equal(0, guard.AlertRaised(Users[0].UserId, SyntheticTraffic.T0 + Hour));
            Assert.Equal(1, guard.Buffer.CountOf(Users[0].UserId));
            Assert.NotEqual(GuardVerdict.Quarantined, guard.Offer(Normal(0, hour: 2)));
        }
    }

    [Fact]
    public void Buffer_must_cap_samples_per_user_per_device_and_per_ip()
    {
        var options = Options with { MaxPerUser = 2, MaxPerDevice = 3, MaxPerIp = 4, HoldBack = TimeSpan.Zero };
        var guard = new SampleGuard(options);
        for (int i = 0; i < 3; i++) guard.Offer(Normal(0));
        for (int u = 1; u <= 4; u++) guard.Offer(Normal(u, device: "bot-phone"));
        for (int u = 10; u <= 15; u++) guard.Offer(Normal(u, device: $"d-{u}", ip: "203.0.113.9"));
        var verdicts = guard.Advance(SyntheticTraffic.T0).Select(r => r.Verdict).ToArray();

        Assert.Equal(
            [GuardVerdict.Admitted, GuardVerdict.Admitted, GuardVerdict.UserCap,
             GuardVerdict.Admitted, GuardVerdict.Admitted, GuardVerdict.Admitted, GuardVerdict.DeviceCap,
             GuardVerdict.Admitted, GuardVerdict.Admitted, GuardVerdict.Admitted, GuardVerdict.Admitted, GuardVerdict.IpCap, GuardVerdict.IpCap],
            verdicts);
        Assert.Equal(2, guard.Buffer.CountOf(Users[0].UserId));
        Assert.Equal(1, guard.CountOf(GuardVerdict.UserCap));
        Assert.Equal(1, guard.CountOf(GuardVerdict.DeviceCap));
        Assert.Equal(2, guard.CountOf(GuardVerdict.IpCap));
    }

    [Fact]
    public void False_alarm_labels_must_be_admitted_at_once_under_their_own_cap()
    {
        var guard = new SampleGuard(Options with { MaxFalseAlarmLabels = 3, MaxPerUser = 100 });
        var verdicts = Enumerable.Range(0, 40)
            .Select(u => guard.Offer(Normal(u) with { Alerted = true, ChampionScore = 4, Source = OnlineSampleSource.FalseAlarmLabel }))
            .ToArray();
        Assert.Equal(3, guard.Buffer.FalseAlarmCount);
        Assert.Equal(0, guard.Buffer.TrafficCount);
        // Every label is either kept (possibly replacing an older one: a reservoir) or dropped under the cap.
        Assert.Equal(40, verdicts.Count(v => v == GuardVerdict.Admitted) + guard.CountOf(GuardVerdict.FalseAlarmCap));
        Assert.True(guard.CountOf(GuardVerdict.FalseAlarmCap) >= 30, $"{guard.CountOf(GuardVerdict.FalseAlarmCap)} labels dropped");
        // A false-alarm label contradicted by positive feedback is refused.
        Assert.Equal(GuardVerdict.FeedbackPositive, guard.Offer(Normal(50) with { FeedbackPositive = true, Source = OnlineSampleSource.FalseAlarmLabel }));
    }

    [Fact]
    public void With_guards_off_every_traffic_sample_goes_to_the_buffer_unjudged_and_uncapped()
    {
        var guard = new SampleGuard(Options with { Guards = false, MaxPerUser = 1 });
        Assert.Equal(GuardVerdict.Admitted, guard.Offer(Normal(0) with { Alerted = true, ChampionScore = 9 }));
        Assert.Equal(GuardVerdict.Admitted, guard.Offer(Normal(0) with { InCooldown = true }));
        Assert.Equal(2, guard.Buffer.CountOf(Users[0].UserId));
    }

    [Fact]
    public void Buffer_must_keep_a_uniform_reservoir_of_at_most_its_size()
    {
        var options = Options with { BufferSize = 200, MaxPerUser = 10_000 };
        var buffer = new OnlineSampleBuffer(options, new Random(5));
        var offered = Enumerable.Range(0, 20_000).Select(i => Normal(i % Users.Length, hour: i)).ToArray();
        foreach (var sample in offered) buffer.Add(sample);
        Assert.Equal(200, buffer.Count);
        // Uniform over the whole stream, not the first (or last) 200: the kept samples' mean position is near the middle.
        double meanHour = buffer.Samples.Average(s => (s.EventTimeMs - SyntheticTraffic.T0) / (double)Hour);
        Assert.InRange(meanHour, 8_000, 12_000);
    }

    [Fact]
    public void Anchor_reservoir_must_keep_a_seeded_sample_of_the_training_users()
    {
        var data = new BehaviorDataset(Users, 32);
        var anchors = AnchorReservoir.Sample(data, 20, seed: 7);
        Assert.Equal(20, anchors.Count);
        Assert.Equal(20, anchors.Users.Distinct().Count());
        Assert.Equal(anchors.Users, AnchorReservoir.Sample(data, 20, seed: 7).Users);
        Assert.NotEqual(Users.Take(20), anchors.Users);
        Assert.Equal(Users.Length, AnchorReservoir.Sample(data, 1000, seed: 7).Count);
    }
}
