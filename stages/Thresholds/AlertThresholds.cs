using StreamDetect.Stages.Feedback;

namespace StreamDetect.Stages.Thresholds;

/// <summary>
/// The alert thresholds of one model, per user segment. Starts from the model's own threshold (fitted
/// on normal validation users) or fixed values. In online mode it learns the live distribution of each
/// user's maximum score per day (event time) and, after a warm-up, corrects for drift: the live quantile
/// at the reference rate (20% of user-days) minus the model's own value there moves the threshold. The
/// wanted alert rate itself (well under 0.1% of user-days) is never read off live traffic: anomalous
/// users are a few percent of it, so that far out the live quantile measures the anomalies, not the
/// normal users, and would lift the threshold over them. A model without a fitted threshold falls back
/// to the live quantile at the wanted rate. Feedback labels nudge a segment's threshold. Decisions are
/// made request by request in stream order, so they do not depend on how requests were batched.
/// </summary>
public sealed class AlertThresholds
{
    private readonly ThresholdSettings _settings;
    private readonly Dictionary<string, Segment> _segments = new(StringComparer.Ordinal);
    private readonly double _perDayRate;

    /// <param name="model">The model's fitted thresholds (wanted alert rate and period; reference rate), or null when it has none.</param>
    public AlertThresholds(ThresholdSettings settings, ModelThreshold? model)
    {
        _settings = settings;
        _perDayRate = -double.ExpM1(double.LogP1(-settings.AlertRate) / Math.Max(1, settings.PeriodDays));
        foreach (string segment in new[] { UserSegment.New, UserSegment.Established })
        {
            bool fromModel = settings.Mode != "fixed" && model is not null;
            double initial = fromModel ? model!.Alert : settings.Fixed[segment];
            _segments[segment] = new Segment(initial, fromModel ? model!.Reference : null, new ScoreHistogram(halfLife: settings.HalfLifeUserDays));
        }
    }

    /// <summary>The threshold now in force for a segment.</summary>
    public double For(string segment) => _segments[segment].Current(_settings, _perDayRate);

    /// <summary>How far live traffic has moved a segment's threshold from where it started (0 before the warm-up and outside online mode).</summary>
    public double DriftOf(string segment) => For(segment) - _segments[segment].Initial - _segments[segment].Shift;

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

    private sealed class Segment(double initial, double? reference, ScoreHistogram days)
    {
        public double Initial { get; } = initial;

        /// <summary>The model's user-day quantile at the reference rate, or null (then the live quantile at the wanted rate is used).</summary>
        public double? Reference { get; } = reference;
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
                _quantile = Reference is double reference
                    ? Initial + Days.UpperQuantile(settings.ReferenceRate) - reference
                    : Days.UpperQuantile(perDayRate);
                _quantileAt = Days.Added;
            }
            return _quantile + Shift;
        }
    }
}
