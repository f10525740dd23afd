using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// Decides, event by event, which scored events alert. An event alerts when its score reaches the
/// threshold of the user's segment in force at the event's order key and the user is not in cooldown
/// (event time since the user's last alert). Everything per user comes with the request and goes back
/// with the decision (<see cref="UserAlertState"/>, owned by the user's partition); the decider itself
/// keeps only what is in flight and the thresholds.
/// <para>
/// Online thresholds change only at multiples of <see cref="ThresholdSettings.UpdateInterval"/> of the
/// order key. The thresholds of an interval are computed once every event before
/// (interval start - <see cref="ThresholdSettings.Delay"/>) is decided (<see cref="DecisionLedger"/>); a
/// request whose next event needs thresholds not computed yet is held and decided later
/// (<see cref="Retry"/>). So the same input, configuration and model give the same decisions whatever the
/// batching, parallelism or timing. Not thread-safe except for <see cref="Apply"/>, which may be called
/// from a feedback stream.
/// </para>
/// </summary>
public sealed class AlertDecider
{
    private readonly AlertSettings _settings;
    private readonly ThresholdSettings _thresholdSettings;
    private readonly Func<string, ModelThreshold?> _modelThreshold;
    private readonly DecisionLedger _ledger;
    private readonly int _windowSize;
    private readonly long _intervalMs, _delayMs, _cooldownMs;
    private readonly Dictionary<string, ModelThresholds> _models = new(StringComparer.Ordinal);
    private readonly List<HeldRequest> _held = [];
    private readonly object _gate = new();
    private readonly bool _countsDecisions;

    /// <param name="modelThreshold">The model's own fitted thresholds for a model key, or null.</param>
    /// <param name="windowSize">Events an alert's window summary covers (the partitions' window size).</param>
    /// <param name="countsDecisions">Whether decided events count as decided in the ledger: false for a shadow's decisions
    /// (issue 11), made beside the champion's on the same events (a shadow's thresholds must then not learn online).</param>
    public AlertDecider(AlertSettings settings, ThresholdSettings thresholds, Func<string, ModelThreshold?> modelThreshold, DecisionLedger ledger, int windowSize,
        bool countsDecisions = true)
    {
        if (!countsDecisions && thresholds.Mode == "online")
            throw new ArgumentException("a decider that does not count its decisions in the ledger cannot learn thresholds online (its thresholds would depend on timing)", nameof(thresholds));
        _countsDecisions = countsDecisions;
        _settings = settings;
        _thresholdSettings = thresholds;
        _modelThreshold = modelThreshold;
        _ledger = ledger;
        _windowSize = windowSize;
        _intervalMs = (long)thresholds.UpdateInterval.TotalMilliseconds;
        _delayMs = (long)thresholds.Delay.TotalMilliseconds;
        _cooldownMs = (long)settings.Cooldown.TotalMilliseconds;
    }

    /// <summary>Alerts decided so far.</summary>
    public long Alerts { get; private set; }

    /// <summary>Requests waiting for thresholds not computed yet.</summary>
    public int Held => _held.Count;

    /// <summary>Feedback labels applied to a threshold.</summary>
    public long FeedbackApplied { get; private set; }

    /// <summary>Feedback labels about users this engine has not scored (ignored).</summary>
    public long FeedbackIgnored { get; private set; }

    /// <summary>The thresholds in force for a model now (one set per model version: a new version starts afresh).</summary>
    public AlertThresholds ThresholdsFor(string model)
    {
        lock (_gate) return Model(model).Live;
    }

    /// <summary>
    /// The threshold in force now for each model that decided events and each segment (calibrated score,
    /// feedback shift included), as (model, segment, threshold). Thread-safe (for metrics).
    /// </summary>
    public IReadOnlyList<(string Model, string Segment, double Threshold)> CurrentThresholds()
    {
        lock (_gate)
        {
            var result = new List<(string, string, double)>(_models.Count * 2);
            foreach (var (model, thresholds) in _models)
                foreach (string segment in new[] { UserSegment.New, UserSegment.Established })
                    result.Add((model, segment, thresholds.Live.For(segment)));
            return result;
        }
    }

    /// <summary>Decides a scored batch; adds what could be decided (now or, for held requests, just now) to <paramref name="decided"/>.</summary>
    public void Offer(ScoredBatch batch, List<DecidedRequest> decided)
    {
        for (int i = 0; i < batch.Requests.Count; i++)
        {
            var held = new HeldRequest(batch.Requests[i], batch.Outputs[i], batch.Model);
            if (!Decide(held)) _held.Add(held);
            else decided.Add(held.ToDecided());
        }
        if (_held.Count > 0) Retry(decided);
    }

    /// <summary>Decides what the held requests can now (thresholds became computable since).</summary>
    public void Retry(List<DecidedRequest> decided)
    {
        bool progress = true;
        while (progress && _held.Count > 0)
        {
            progress = false;
            for (int i = 0; i < _held.Count; i++)
            {
                var held = _held[i];
                int before = held.Cursor;
                if (Decide(held))
                {
                    decided.Add(held.ToDecided());
                    _held.RemoveAt(i--);
                    progress = true;
                }
                else if (held.Cursor != before)
                {
                    progress = true;
                }
            }
        }
    }

    /// <summary>Decides the request's events from its cursor on; false when one needs thresholds not computable yet.</summary>
    private bool Decide(HeldRequest h)
    {
        var request = h.Request;
        var output = h.Output;
        for (; h.Cursor < request.NewEvents; h.Cursor++)
        {
            int j = h.Cursor;
            long key = request.OrderKeys[j];
            int at = request.FirstNewIndex + j;
            var entry = request.Window[at];
            long eventIndex = request.EventIndexOf(j);
            string segment = UserSegment.Of(eventIndex, request.FirstEventMs, entry.TimestampMs, _thresholdSettings);
            double threshold;
            lock (_gate)
            {
                var model = Model(h.Model);
                if (!model.TryThreshold(key, segment, out threshold)) return false;
                double score = output.ScoreAt(j);
                var state = h.State;
                long day = FloorDiv(entry.TimestampMs, 86_400_000L);
                if (state.OpenDay == day && state.OpenSegment == segment)
                {
                    if (score > state.OpenMax) state = state with { OpenMax = score };
                }
                else
                {
                    if (state.OpenDay != long.MinValue && state.OpenSegment is { } open) model.Live.AddUserDay(key, request.UserId, open, state.OpenMax);
                    state = state with { OpenDay = day, OpenSegment = segment, OpenMax = score };
                }
                state = state with { LastSegment = segment, LastModel = h.Model };
                if (score >= threshold && (state.LastAlertMs == long.MinValue || entry.TimestampMs - state.LastAlertMs >= _cooldownMs))
                {
                    string id = AlertIds.For(request.UserId, eventIndex, entry.TimestampMs, h.Model);
                    var window = request.Window.AsSpan(Math.Max(0, at + 1 - _windowSize), Math.Min(at + 1, _windowSize));
                    var alert = new Alert(id, request.UserId, entry.TimestampMs, score, threshold, h.Model, segment, output.ExplanationAt(j),
                        SummarizeWindow(window, eventIndex))
                    {
                        Context = ContextOf(request, j),
                        Scenario = ScenarioRules.Classify(window),
                        SessionEnd = SessionRule.IsEndMarker(entry),
                    };
                    (h.Alerts ??= []).Add(new AlertRecord(id, request.UserId, entry.TimestampMs, key, eventIndex, AlertJson.ToUtf8(alert, _settings))
                    {
                        ReceivedTicks = request.ReceivedTicks,
                        Model = h.Model,
                        Segment = segment,
                    });
                    state = state.WithAlert(entry.TimestampMs, id);
                    Alerts++;
                }
                h.State = state;
            }
            if (_countsDecisions) _ledger.Decided(key);
        }
        return true;
    }

    /// <summary>
    /// Applies an analyst's verdict on a user to the thresholds of the model and segment the user was last
    /// scored in (from the user's alert state, which its partition holds). Returns false for a user this
    /// engine has not scored. Thread-safe.
    /// </summary>
    public bool Apply(FeedbackLabel label, UserAlertState? state)
    {
        lock (_gate)
        {
            if (state is not { LastModel: { } model, LastSegment: { } segment } known)
            {
                FeedbackIgnored++;
                return false;
            }
            bool wasAlerted = known.LastAlertId is { } last && (label.AlertId is null || label.AlertId == last);
            Model(model).Live.Apply(label, segment, wasAlerted);
            FeedbackApplied++;
            return true;
        }
    }

    /// <summary>The device and IP of new event <paramref name="j"/> of the request, with the user's device/IP features as of it.</summary>
    public static AlertContext ContextOf(ScoringRequest request, int j)
    {
        if (request.Features.Length < (j + 1) * FeatureSchema.Count)
            return new AlertContext(request.Devices?[j], request.Ips?[j], false, false, 0, 0);
        var features = request.Features.AsSpan(j * FeatureSchema.Count, FeatureSchema.Count);
        return new AlertContext(
            request.Devices?[j],
            request.Ips?[j],
            features[DeviceNewIndex] >= 0.5f,
            features[IpNewIndex] >= 0.5f,
            (int)features[DevicesDistinctIndex],
            (int)features[IpsDistinctIndex]);
    }

    private static readonly int DeviceNewIndex = FeatureSchema.IndexOf("device_new");
    private static readonly int IpNewIndex = FeatureSchema.IndexOf("ip_new");
    private static readonly int DevicesDistinctIndex = FeatureSchema.IndexOf("devices_distinct");
    private static readonly int IpsDistinctIndex = FeatureSchema.IndexOf("ips_distinct");

    /// <summary>A window summary from events (oldest first).</summary>
    public static AlertWindow SummarizeWindow(ReadOnlySpan<WindowEntry> window, long userEvents)
    {
        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        var sequence = new List<string>(window.Length);
        foreach (var e in window)
        {
            types[e.Type] = types.GetValueOrDefault(e.Type) + 1;
            sequence.Add(e.Type);
        }
        return new AlertWindow(
            window.Length,
            window.Length == 0 ? 0 : window[0].TimestampMs,
            window.Length == 0 ? 0 : window[^1].TimestampMs,
            types.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList(),
            userEvents,
            sequence);
    }

    private ModelThresholds Model(string model)
    {
        if (!_models.TryGetValue(model, out var thresholds))
        {
            thresholds = new ModelThresholds(new AlertThresholds(_thresholdSettings, _modelThreshold(model)), this);
            _models[model] = thresholds;
        }
        return thresholds;
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : (a - b + 1) / b;

    /// <summary>One model's thresholds: the live ones, and those fixed for each update interval (by order key).</summary>
    private sealed class ModelThresholds(AlertThresholds live, AlertDecider decider)
    {
        private readonly SortedDictionary<long, (double New, double Established)> _byInterval = new();
        private long _computedThrough = long.MinValue;

        public AlertThresholds Live { get; } = live;

        /// <summary>The threshold of the segment at the order key, computing the interval's thresholds if every event they depend on is decided.</summary>
        public bool TryThreshold(long key, string segment, out double threshold)
        {
            if (!Live.LearnsOnline)
            {
                threshold = Live.For(segment);
                return true;
            }
            long interval = FloorDiv(key, decider._intervalMs);
            if (interval > _computedThrough && !TryCompute(interval))
            {
                threshold = 0;
                return false;
            }
            // An interval older than any computed (an event handed over late) takes the oldest thresholds kept.
            var values = _byInterval.TryGetValue(interval, out var v) ? v : _byInterval.First().Value;
            double shift = Live.ShiftOf(segment);
            threshold = (segment == UserSegment.New ? values.New : values.Established) + shift;
            return true;
        }

        private bool TryCompute(long interval)
        {
            long cutoff = interval * decider._intervalMs - decider._delayMs;
            if (!decider._ledger.AllDecidedBefore(cutoff)) return false;
            // Every interval from the last computed to this one, in order: each sees the user-days before its own cutoff.
            long first = _computedThrough == long.MinValue ? interval : _computedThrough + 1;
            if (interval - first > 24 * 366) first = interval; // a jump over more than a year of nothing: the intervals between are never asked for
            for (long i = first; i <= interval; i++)
            {
                Live.Advance(i * decider._intervalMs - decider._delayMs);
                _byInterval[i] = (Live.BaseFor(UserSegment.New), Live.BaseFor(UserSegment.Established));
            }
            _computedThrough = interval;
            decider._ledger.AdvanceFrontier(cutoff);
            // Keys below the frontier are never admitted again: intervals older than it are not needed.
            long oldest = FloorDiv(cutoff, decider._intervalMs) - 1;
            while (_byInterval.Count > 1 && _byInterval.First().Key < oldest) _byInterval.Remove(_byInterval.First().Key);
            return true;
        }
    }

    private sealed class HeldRequest(ScoringRequest request, ScoringOutput output, string model)
    {
        public ScoringRequest Request { get; } = request;
        public ScoringOutput Output { get; } = output;
        public string Model { get; } = model;
        public int Cursor { get; set; }
        public UserAlertState State { get; set; } = request.Alert;
        public List<AlertRecord>? Alerts { get; set; }

        public DecidedRequest ToDecided() => new(Request, Output, Model, State, Alerts ?? (IReadOnlyList<AlertRecord>)Array.Empty<AlertRecord>());
    }
}
