using StreamDetect.Stages.Feedback;

namespace StreamDetect.Stages.Thresholds;

/// <summary>
/// The alert thresholds of one model, per user segment. Starts from the model's own threshold (fitted
/// on normal validation users) or fixed values; in online mode, learns the live distribution of each
/// user's maximum score per day (event time) and, after a warm-up, alerts at the quantile that gives
/// the wanted alert rate — the same statistic the model was calibrated on, so the two agree when the
/// traffic looks like the training data. Feedback labels nudge a segment's threshold. Decisions are
/// made request by request in stream order, so they do not depend on how requests were batched.
/// </summary>
public sealed class AlertThresholds
{
    private readonly ThresholdSettings _settings;
    private readonly Dictionary<string, Segment> _segments = new(StringComparer.Ordinal);
    private readonly double _perDayRate;

    /// <param name="modelThreshold">The model's fitted threshold for the wanted alert rate and period, or null when it has none.</param>
    public AlertThresholds(ThresholdSettings settings, double? modelThreshold)
    {
        _settings = settings;
        _perDayRate = -double.ExpM1(double.LogP1(-settings.AlertRate) / Math.Max(1, settings.PeriodDays));
        foreach (string segment in new[] { UserSegment.New, UserSegment.Established })
        {
            double initial = settings.Mode == "fixed" || modelThreshold is null ? settings.Fixed[segment] : modelThreshold.Value;
            _segments[segment] = new Segment(initial, new ScoreHistogram(halfLife: settings.HalfLifeUserDays));
        }
    }

    /// <summary>The threshold now in force for a segment.</summary>
    public double For(string segment) => _segments[segment].Current(_settings, _perDayRate);

    /// <summary>Whether the segment's threshold comes from live traffic yet.</summary>
    public bool IsOnline(string segment) =>
        _settings.Mode == "online" && _segments[segment].Days.Added >= _settings.WarmupUserDays;

    /// <summary>
    /// Records one scored request: the user's running maximum for its day, closed into the quantile
    /// when the user's day changes.
    /// </summary>
    public void Observe(string userId, string segment, long eventMs, double score)
    {
        if (_settings.Mode != "online") return;
        var s = _segments[segment];
        long day = Math.DivRem(eventMs, 86_400_000L, out long rem) - (rem < 0 ? 1 : 0);
        if (s.OpenDays.TryGetValue(userId, out var open))
        {
            if (open.Day == day)
            {
                if (score > open.Max) s.OpenDays[userId] = (day, score);
                return;
            }
            s.Days.Add(open.Max);
        }
        s.OpenDays[userId] = (day, score);
        if (s.OpenDays.Count > 1_000_000) CloseOldest(s);
    }

    /// <summary>An analyst's verdict: a false alarm raises the user's segment threshold, a missed anomaly lowers it.</summary>
    public void Apply(FeedbackLabel label, string segment, bool wasAlerted)
    {
        var s = _segments[segment];
        if (label.Label == 0 && wasAlerted) s.Shift = Math.Min(_settings.FeedbackMaxShift, s.Shift + _settings.FeedbackStep);
        else if (label.Label == 1 && !wasAlerted) s.Shift = Math.Max(-_settings.FeedbackMaxShift, s.Shift - _settings.FeedbackStep);
    }

    /// <summary>The feedback shift of a segment (calibrated units).</summary>
    public double ShiftOf(string segment) => _segments[segment].Shift;

    private static void CloseOldest(Segment s)
    {
        // Bound memory on very many users per day: close the days of half the open users.
        foreach (var user in s.OpenDays.Keys.Take(s.OpenDays.Count / 2).ToList())
        {
            s.Days.Add(s.OpenDays[user].Max);
            s.OpenDays.Remove(user);
        }
    }

    private sealed class Segment(double initial, ScoreHistogram days)
    {
        public double Initial { get; } = initial;
        public ScoreHistogram Days { get; } = days;
        public Dictionary<string, (long Day, double Max)> OpenDays { get; } = new(StringComparer.Ordinal);
        public double Shift { get; set; }

        private long _quantileAt = -1;
        private double _quantile;

        public double Current(ThresholdSettings settings, double perDayRate)
        {
            if (settings.Mode != "online" || Days.Added < settings.WarmupUserDays || Days.Added == 0) return Initial + Shift;
            // The quantile moves slowly: recompute it every 256 user-days, not on every request.
            if (_quantileAt < 0 || Days.Added - _quantileAt >= 256)
            {
                _quantile = Days.UpperQuantile(perDayRate);
                _quantileAt = Days.Added;
            }
            return _quantile + Shift;
        }
    }
}
