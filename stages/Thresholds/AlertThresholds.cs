using StreamDetect.Stages.Feedback;

namespace StreamDetect.Stages.Thresholds;

/// <summary>
/// The alert thresholds of one model, per user segment. Starts from the model's own threshold (fitted
/// on normal validation users) or fixed values. In online mode it learns the live distribution of users'
/// daily maximum scores and, after a warm-up, corrects for drift: the live quantile at the reference rate
/// (20% of user-days) minus the model's own value there moves the threshold. The wanted alert rate itself
/// (well under 0.1% of user-days) is never read off live traffic: anomalous users are a few percent of it,
/// so that far out the live quantile measures the anomalies, not the normal users, and would lift the
/// threshold over them. A model without a fitted threshold falls back to the live quantile at the wanted
/// rate. Feedback labels nudge a segment's threshold.
/// <para>
/// Deterministic by construction: closed user-days are only buffered by <see cref="AddUserDay"/>; they
/// reach the distribution when <see cref="Advance"/> folds everything before an order key, in the order
/// (order key, user), and the thresholds change only then. The caller advances only once every event
/// before that key has been decided (see <c>DecisionLedger</c>), so the thresholds in force at any order
/// key are a function of the input, never of timing.
/// </para>
/// </summary>
public sealed class AlertThresholds
{
    private readonly ThresholdSettings _settings;
    private readonly Dictionary<string, Segment> _segments = new(StringComparer.Ordinal);
    private readonly double _perDayRate;
    private readonly List<UserDay> _pending = [];

    /// <param name="model">The model's fitted thresholds (wanted alert rate and period; reference rate), or null when it has none.</param>
    public AlertThresholds(ThresholdSettings settings, ModelThreshold? model)
    {
        _settings = settings;
        // Per active entity-day: the model's measure of its entities' active days when it has one, else every
        // entity active every day of the period.
        _perDayRate = model?.PerDayRate ?? -double.ExpM1(double.LogP1(-settings.AlertRate) / Math.Max(1, settings.PeriodDays));
        foreach (string segment in new[] { UserSegment.New, UserSegment.Established })
        {
            bool fromModel = settings.Mode != "fixed" && model is not null;
            double initial = fromModel ? model!.Alert : settings.Fixed[segment];
            _segments[segment] = new Segment(initial, fromModel ? model!.Reference : null, new ScoreHistogram(halfLife: settings.HalfLifeUserDays))
            {
                FollowsRule = fromModel && model!.FollowsRule,
            };
        }
    }

    /// <summary>Whether live traffic can move these thresholds (online mode): only then must decisions wait for <see cref="Advance"/>.</summary>
    public bool LearnsOnline => _settings.Mode == "online";

    /// <summary>The threshold now in force for a segment.</summary>
    public double For(string segment) => _segments[segment].Base + _segments[segment].Shift;

    /// <summary>The threshold of a segment without the feedback shift (what <see cref="Advance"/> fixed).</summary>
    public double BaseFor(string segment) => _segments[segment].Base;

    /// <summary>How far live traffic has moved a segment's threshold from where it started (0 before the warm-up and outside online mode).</summary>
    public double DriftOf(string segment) => _segments[segment].Base - _segments[segment].Initial;

    /// <summary>Whether the segment's threshold comes from live traffic yet.</summary>
    public bool IsOnline(string segment) =>
        _settings.Mode == "online" && _segments[segment].Days.Added >= _settings.WarmupUserDays && _segments[segment].Days.Added > 0;

    /// <summary>User-days buffered, not folded yet.</summary>
    public int Pending => _pending.Count;

    /// <summary>
    /// Buffers one closed user-day: the user's highest score of a day in a segment, observed by the event
    /// with order key <paramref name="key"/> (the user's first event after that day). Ignored outside online mode.
    /// </summary>
    public void AddUserDay(long key, string userId, string segment, double max)
    {
        if (_settings.Mode != "online" || !double.IsFinite(max)) return;
        _pending.Add(new UserDay(key, userId, segment, max));
    }

    /// <summary>
    /// Folds every buffered user-day with an order key below <paramref name="before"/> into the live
    /// distribution, in (order key, user) order, and recomputes the thresholds.
    /// </summary>
    public void Advance(long before)
    {
        if (_settings.Mode != "online") return;
        if (_pending.Count > 0)
        {
            var due = new List<UserDay>();
            _pending.RemoveAll(d =>
            {
                if (d.Key >= before) return false;
                due.Add(d);
                return true;
            });
            due.Sort(static (a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : string.CompareOrdinal(a.UserId, b.UserId) is int c && c != 0 ? c : a.Max.CompareTo(b.Max));
            foreach (var d in due) _segments[d.Segment].Days.Add(d.Max);
        }
        foreach (var s in _segments.Values) s.Recompute(_settings, _perDayRate);
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

    private readonly record struct UserDay(long Key, string UserId, string Segment, double Max);

    private sealed class Segment(double initial, double? reference, ScoreHistogram days)
    {
        public double Initial { get; } = initial;

        /// <summary>The model's user-day quantile at the reference rate, or null (then the live quantile at the wanted rate is used).</summary>
        public double? Reference { get; } = reference;

        public ScoreHistogram Days { get; } = days;

        /// <summary>The initial threshold is the model's decision rule: live traffic does not move it.</summary>
        public bool FollowsRule { get; init; }

        public double Shift { get; set; }

        /// <summary>The threshold before feedback, as of the last <see cref="Recompute"/>.</summary>
        public double Base { get; private set; } = initial;

        public void Recompute(ThresholdSettings settings, double perDayRate)
        {
            if (FollowsRule || Days.Added < settings.WarmupUserDays || Days.Added == 0)
            {
                Base = Initial;
                return;
            }
            Base = Reference is double reference
                ? Initial + Days.UpperQuantile(settings.ReferenceRate) - reference
                : Days.UpperQuantile(perDayRate);
        }
    }
}
