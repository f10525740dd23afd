using StreamDetect.Models.Features;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// Turns scored requests into alerts, request by request in stream order (so the same stream gives the
/// same alerts however it was batched): the user's segment picks the threshold, the score is observed by
/// the online threshold, and a score at or above the threshold alerts unless the user is in cooldown.
/// </summary>
public sealed class AlertDecider
{
    private readonly AlertSettings _settings;
    private readonly ThresholdSettings _thresholdSettings;
    private readonly Func<string, ModelThreshold?> _modelThreshold;
    private readonly Dictionary<string, AlertThresholds> _thresholds = new(StringComparer.Ordinal);
    private readonly AlertCooldown _cooldown;
    private readonly Dictionary<string, string> _lastAlertId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Model, string Segment)> _lastSeen = new(StringComparer.Ordinal);

    /// <param name="modelThreshold">The model's own fitted thresholds for a model key, or null.</param>
    public AlertDecider(AlertSettings settings, ThresholdSettings thresholds, Func<string, ModelThreshold?> modelThreshold)
    {
        _settings = settings;
        _thresholdSettings = thresholds;
        _modelThreshold = modelThreshold;
        _cooldown = new AlertCooldown(settings.Cooldown);
    }

    private readonly object _gate = new();

    public long Alerts { get; private set; }

    /// <summary>Feedback labels applied to a threshold.</summary>
    public long FeedbackApplied { get; private set; }

    /// <summary>Feedback labels about users this engine has not scored (ignored).</summary>
    public long FeedbackIgnored { get; private set; }

    /// <summary>The thresholds in force for a model (one set per model version: a new version starts afresh).</summary>
    public AlertThresholds ThresholdsFor(string model)
    {
        if (!_thresholds.TryGetValue(model, out var thresholds))
        {
            thresholds = new AlertThresholds(_thresholdSettings, _modelThreshold(model));
            _thresholds[model] = thresholds;
        }
        return thresholds;
    }

    /// <summary>Decisions for one scored batch. Thread-safe with <see cref="Apply"/> (feedback arrives on its own stream).</summary>
    public IReadOnlyList<Alert> Decide(ScoredBatch batch)
    {
        lock (_gate) return DecideLocked(batch);
    }

    private IReadOnlyList<Alert> DecideLocked(ScoredBatch batch)
    {
        List<Alert>? alerts = null;
        var thresholds = ThresholdsFor(batch.Model);
        for (int i = 0; i < batch.Requests.Count; i++)
        {
            var request = batch.Requests[i];
            var output = batch.Outputs[i];
            string segment = UserSegment.Of(request.EventCount, request.FirstEventMs, request.LastEventMs, _thresholdSettings);
            double threshold = thresholds.For(segment);
            thresholds.Observe(request.UserId, segment, request.LastEventMs, output.Score);
            _lastSeen[request.UserId] = (batch.Model, segment);
            if (output.Score < threshold || !_cooldown.TryAlert(request.UserId, request.LastEventMs)) continue;

            string id = AlertIds.For(request.UserId, request.LastEventMs, batch.Model);
            _lastAlertId[request.UserId] = id;
            (alerts ??= new List<Alert>()).Add(new Alert(id, request.UserId, request.LastEventMs, output.Score, threshold, batch.Model, segment,
                output.Explanation, SummarizeWindow(request.Window, request.EventCount)) { ReceivedTicks = request.ReceivedTicks });
            Alerts++;
        }
        return alerts ?? (IReadOnlyList<Alert>)Array.Empty<Alert>();
    }

    /// <summary>
    /// Alerts this engine made before a restart (read back from its output): their users are in cooldown
    /// from their time, and feedback naming their ids applies.
    /// </summary>
    public void Remember(IEnumerable<EmittedAlert> alerts)
    {
        lock (_gate)
        {
            foreach (var alert in alerts.OrderBy(a => a.TimeMs))
            {
                _cooldown.Remember(alert.UserId, alert.TimeMs);
                _lastAlertId[alert.UserId] = alert.AlertId;
            }
        }
    }

    /// <summary>
    /// Applies an analyst's verdict on a user to the thresholds of the model and segment the user was
    /// last scored in. Returns false for a user this engine has not scored.
    /// </summary>
    public bool Apply(FeedbackLabel label)
    {
        lock (_gate)
        {
            if (!_lastSeen.TryGetValue(label.UserId, out var seen))
            {
                FeedbackIgnored++;
                return false;
            }
            bool wasAlerted = _lastAlertId.TryGetValue(label.UserId, out string? last) && (label.AlertId is null || label.AlertId == last);
            ThresholdsFor(seen.Model).Apply(label, seen.Segment, wasAlerted);
            FeedbackApplied++;
            return true;
        }
    }

    /// <summary>A window summary from events (oldest first).</summary>
    public static AlertWindow SummarizeWindow(IReadOnlyList<WindowEntry> window, long userEvents)
    {
        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in window) types[e.Type] = types.GetValueOrDefault(e.Type) + 1;
        return new AlertWindow(
            window.Count,
            window.Count == 0 ? 0 : window[0].TimestampMs,
            window.Count == 0 ? 0 : window[^1].TimestampMs,
            types.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList(),
            userEvents,
            window.Select(e => e.Type).ToList());
    }
}
