namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// User-level detection quality of a run against ground truth, for the users active in the evaluated
/// period (events from <see cref="FromMs"/> on). A user is positive when one of its events in the
/// period is labelled 1, predicted positive when it was alerted in the period. Per scenario, the
/// population is that scenario's users plus every normal user: recall = alerted share of the
/// scenario's positive users, precision = their alerts among those plus all false alerts on normal
/// users. The same definitions are used by the tests that recompute the figures from the alerts file.
/// </summary>
public sealed class DetectionReport
{
    private readonly Dictionary<string, UserOutcome> _users = new(StringComparer.Ordinal);

    public DetectionReport(long fromMs, IReadOnlyDictionary<string, string>? truth)
    {
        FromMs = fromMs;
        Truth = truth;
    }

    public long FromMs { get; }

    public IReadOnlyDictionary<string, string>? Truth { get; }

    /// <summary>Records a scored request: the user was active (at <paramref name="eventMs"/>) with this label.</summary>
    public void Observe(string userId, long eventMs, int? label)
    {
        if (eventMs < FromMs) return;
        var outcome = _users.GetValueOrDefault(userId);
        outcome.Active = true;
        if (label == 1) outcome.Positive = true;
        if (label is not null) outcome.Labelled = true;
        _users[userId] = outcome;
    }

    /// <summary>Records an alert.</summary>
    public void Alerted(string userId, long eventMs)
    {
        if (eventMs < FromMs) return;
        var outcome = _users.GetValueOrDefault(userId);
        outcome.Alerted = true;
        _users[userId] = outcome;
    }

    public bool HasLabels => _users.Values.Any(u => u.Labelled);

    /// <summary>Precision/recall/F1 overall and per scenario (scenarios from the truth, when known).</summary>
    public QualitySummary Summarize()
    {
        var active = _users.Where(u => u.Value.Active).ToList();
        var overall = Score(active.Select(u => u.Value));
        var perScenario = new SortedDictionary<string, ScenarioQuality>(StringComparer.Ordinal);
        if (Truth is not null)
        {
            var negatives = active.Where(u => !u.Value.Positive).Select(u => u.Value).ToList();
            int falseAlerts = negatives.Count(u => u.Alerted);
            foreach (var group in active.Where(u => u.Value.Positive).GroupBy(u => Truth.GetValueOrDefault(u.Key, "unknown")))
            {
                int positives = group.Count(), detected = group.Count(u => u.Value.Alerted);
                double precision = detected + falseAlerts == 0 ? 0 : (double)detected / (detected + falseAlerts);
                double recall = positives == 0 ? 0 : (double)detected / positives;
                perScenario[group.Key] = new ScenarioQuality(positives, detected, precision, recall, F1(precision, recall));
            }
        }
        int normalUsers = active.Count(u => !u.Value.Positive);
        int normalAlerted = active.Count(u => !u.Value.Positive && u.Value.Alerted);
        return new QualitySummary(overall.Precision, overall.Recall, overall.F1, active.Count, active.Count(u => u.Value.Positive),
            normalUsers == 0 ? 0 : (double)normalAlerted / normalUsers, perScenario);
    }

    private static (double Precision, double Recall, double F1) Score(IEnumerable<UserOutcome> users)
    {
        int tp = 0, fp = 0, fn = 0;
        foreach (var u in users)
        {
            if (u.Alerted && u.Positive) tp++;
            else if (u.Alerted) fp++;
            else if (u.Positive) fn++;
        }
        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        double recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        return (precision, recall, F1(precision, recall));
    }

    private static double F1(double precision, double recall) => precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);

    private struct UserOutcome
    {
        public bool Active, Positive, Labelled, Alerted;
    }
}
