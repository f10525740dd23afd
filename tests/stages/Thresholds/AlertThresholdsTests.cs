using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Stages.Tests.Thresholds;

public sealed class AlertThresholdsTests
{
    private const long Day = 86_400_000L;

    // A calibrated model: a normal user-day's maximum score s has P(S > s) = 10^-s, so the model's
    // user-day quantile at share r is -log10(r).
    private static readonly ThresholdSettings Online = ThresholdSettings.Default with { WarmupUserDays = 2000, PeriodDays = 1, AlertRate = 0.001 };
    private static readonly ModelThreshold Calibrated = new(Alert: 3.0, Reference: -Math.Log10(Online.ReferenceRate));

    /// <summary>Adds user-days (closed on the next day) and folds them: normal users' daily maxima from the calibrated distribution plus <paramref name="drift"/>, and a share of anomalous users with very high scores.</summary>
    private static void Feed(AlertThresholds thresholds, int users, int days, double anomalousShare, double drift, int seed = 1)
    {
        var random = new Random(seed);
        for (int day = 0; day < days; day++)
            for (int u = 0; u < users; u++)
            {
                bool anomalous = u < users * anomalousShare;
                double score = anomalous ? 6 + random.NextDouble() * 4 : -Math.Log10(1 - random.NextDouble()) + drift;
                thresholds.AddUserDay((day + 1) * Day + u, $"u-{u}", UserSegment.Established, score);
            }
        thresholds.Advance((days + 1) * Day);
    }

    [Fact]
    public void Before_the_warm_up_the_model_threshold_is_in_force()
    {
        var thresholds = new AlertThresholds(Online, Calibrated);
        Feed(thresholds, users: 500, days: 3, anomalousShare: 0, drift: 2.0);
        Assert.False(thresholds.IsOnline(UserSegment.Established));
        Assert.Equal(3.0, thresholds.For(UserSegment.Established));
        Assert.Equal(3.0, thresholds.For(UserSegment.New));
    }

    [Fact]
    public void Anomalous_users_among_live_traffic_do_not_drag_the_online_threshold_up()
    {
        // 2% of users are anomalous every day: far more than the wanted 0.1% alert rate, so the live
        // quantile at the wanted rate sits among the anomalies (score >= 6).
        var thresholds = new AlertThresholds(Online, Calibrated);
        Feed(thresholds, users: 5000, days: 5, anomalousShare: 0.02, drift: 0);
        Assert.True(thresholds.IsOnline(UserSegment.Established));
        Assert.InRange(thresholds.For(UserSegment.Established), 2.85, 3.15);
    }

    [Fact]
    public void When_live_scores_drift_the_online_threshold_follows_them()
    {
        var thresholds = new AlertThresholds(Online, Calibrated);
        Feed(thresholds, users: 5000, days: 5, anomalousShare: 0.01, drift: 0.8);
        Assert.InRange(thresholds.DriftOf(UserSegment.Established), 0.65, 0.95);
        Assert.InRange(thresholds.For(UserSegment.Established), 3.65, 3.95);
        Assert.Equal(0, thresholds.DriftOf(UserSegment.New)); // the other segment saw nothing
    }

    [Fact]
    public void Without_a_model_reference_online_mode_reads_the_wanted_rate_off_live_traffic()
    {
        var thresholds = new AlertThresholds(Online, new ModelThreshold(3.0, Reference: null));
        Feed(thresholds, users: 5000, days: 6, anomalousShare: 0, drift: 0);
        // Per-day rate 0.001: the calibrated quantile is 3; sampling noise at 30k user-days is about +-0.1.
        Assert.InRange(thresholds.For(UserSegment.Established), 2.8, 3.2);
    }

    [Fact]
    public void Without_a_model_reference_the_live_quantile_is_read_at_the_model_s_per_active_day_rate()
    {
        // Entities that live minutes: a 7-day period is one active day each, so the per-active-day rate is the
        // wanted rate itself (0.001, quantile 3), not the calendar rule's 1 - (1 - 0.001)^(1/7) (quantile ~3.85).
        var week = Online with { PeriodDays = 7 };
        var thresholds = new AlertThresholds(week, new ModelThreshold(3.0, Reference: null) { PerDayRate = 0.001 });
        Feed(thresholds, users: 5000, days: 6, anomalousShare: 0, drift: 0);
        Assert.InRange(thresholds.For(UserSegment.Established), 2.8, 3.2);

        var calendar = new AlertThresholds(week, new ModelThreshold(3.0, Reference: null));
        Feed(calendar, users: 5000, days: 6, anomalousShare: 0, drift: 0);
        Assert.InRange(calendar.For(UserSegment.Established), 3.6, 4.1);
    }

    [Fact]
    public void A_threshold_that_is_the_model_s_decision_rule_is_not_moved_by_drift()
    {
        // A sequence model in top-k mode: its threshold is "outside the top k", whatever live scores do.
        var thresholds = new AlertThresholds(Online, Calibrated with { FollowsRule = true });
        Feed(thresholds, users: 5000, days: 5, anomalousShare: 0.01, drift: 0.8);
        Assert.Equal(3.0, thresholds.For(UserSegment.Established));
        Assert.Equal(0, thresholds.DriftOf(UserSegment.Established));
    }

    [Fact]
    public void User_days_move_the_thresholds_only_when_folded_and_only_those_before_the_fold()
    {
        var thresholds = new AlertThresholds(Online with { WarmupUserDays = 10 }, new ModelThreshold(3.0, Reference: null));
        for (int u = 0; u < 100; u++) thresholds.AddUserDay(5 * Day + u, $"u-{u}", UserSegment.Established, 0.5);
        Assert.Equal(3.0, thresholds.For(UserSegment.Established)); // buffered, not folded
        Assert.Equal(100, thresholds.Pending);

        thresholds.Advance(5 * Day + 50); // the first 50 only
        Assert.Equal(50, thresholds.Pending);
        Assert.True(thresholds.IsOnline(UserSegment.Established));
        Assert.InRange(thresholds.For(UserSegment.Established), 0.5, 0.51);
    }

    [Fact]
    public void The_same_user_days_folded_in_any_arrival_order_give_the_same_thresholds()
    {
        var settings = Online with { WarmupUserDays = 100, HalfLifeUserDays = 300 };
        var days = Enumerable.Range(0, 2000).Select(i => (Key: Day + i / 7 * 1000, User: $"u-{i % 500}", Score: (i * 37 % 1000) / 250.0)).ToList();
        double Fold(IEnumerable<(long Key, string User, double Score)> order)
        {
            var thresholds = new AlertThresholds(settings, Calibrated);
            foreach (var d in order) thresholds.AddUserDay(d.Key, d.User, UserSegment.Established, d.Score);
            thresholds.Advance(2 * Day);
            return thresholds.For(UserSegment.Established);
        }
        double forward = Fold(days);
        Assert.Equal(forward, Fold(Enumerable.Reverse(days)));
        Assert.Equal(forward, Fold(days.OrderBy(d => d.User.GetHashCode() ^ d.Score.GetHashCode())));
    }

    [Fact]
    public void Fixed_and_model_modes_ignore_live_traffic()
    {
        var fixedMode = new AlertThresholds(Online with { Mode = "fixed" }, Calibrated);
        var modelMode = new AlertThresholds(Online with { Mode = "model" }, Calibrated);
        Feed(fixedMode, users: 5000, days: 2, anomalousShare: 0, drift: 1);
        Feed(modelMode, users: 5000, days: 2, anomalousShare: 0, drift: 1);
        Assert.Equal(4.0, fixedMode.For(UserSegment.Established));
        Assert.Equal(3.0, modelMode.For(UserSegment.Established));
        Assert.False(modelMode.IsOnline(UserSegment.Established));
        Assert.False(modelMode.LearnsOnline);
    }

    [Fact]
    public void Feedback_moves_a_segment_threshold_by_steps_and_never_beyond_max_shift()
    {
        var settings = Online with { Mode = "model", FeedbackStep = 0.5, FeedbackMaxShift = 1.0 };
        var thresholds = new AlertThresholds(settings, Calibrated);
        var falseAlarm = new FeedbackLabel("u-1", 0, null);
        for (int i = 0; i < 5; i++) thresholds.Apply(falseAlarm, UserSegment.Established, wasAlerted: true);
        Assert.Equal(4.0, thresholds.For(UserSegment.Established));
        Assert.Equal(3.0, thresholds.For(UserSegment.New));

        var missed = new FeedbackLabel("u-2", 1, null);
        for (int i = 0; i < 6; i++) thresholds.Apply(missed, UserSegment.Established, wasAlerted: false);
        Assert.Equal(2.0, thresholds.For(UserSegment.Established));

        // A confirmed alert or a normal user left alone says nothing new.
        thresholds.Apply(missed, UserSegment.Established, wasAlerted: true);
        thresholds.Apply(falseAlarm, UserSegment.Established, wasAlerted: false);
        Assert.Equal(2.0, thresholds.For(UserSegment.Established));
    }
}
