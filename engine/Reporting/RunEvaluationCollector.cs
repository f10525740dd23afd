using System.Diagnostics;
using StreamDetect.Models.Evaluation;

namespace StreamDetect.Engine.Reporting;

/// <summary>
/// `run --report`: keeps what the report needs of the stream's own verdicts on the evaluated period (events from
/// <see cref="FromMs"/> on, as the run's detection summary counts them): every scored event's score and label per
/// user, and every alert the run decided with its event's label. <see cref="Result"/> measures them the way
/// `eval` measures a replay (<see cref="Evaluator"/>), so the same <see cref="EvaluationReportWriter"/> draws them.
/// Memory: one entry per evaluated event (about 16 bytes); only made when a report is asked for. Thread-safe.
/// </summary>
public sealed class RunEvaluationCollector
{
    private readonly object _gate = new();
    private readonly IReadOnlyDictionary<string, string>? _truth;
    private readonly Dictionary<string, int> _userIndex = new(StringComparer.Ordinal);
    private readonly List<string> _userIds = [];
    private readonly List<(int User, double Score, int Label)> _events = [];
    private readonly List<AlertedEvent> _alerts = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _firstMs = long.MaxValue, _lastMs = long.MinValue;
    private bool _labelled;

    /// <param name="fromMs">Events before this time are not evaluated (a run that trained on its input's first days starts after them).</param>
    /// <param name="truth">userId -> scenario from the input's truth file, or null.</param>
    /// <param name="threshold">The threshold the report measures precision and recall at (the model's fitted one for the run's alert rate and period).</param>
    /// <param name="alertRate">The wanted alert rate that threshold stands for.</param>
    public RunEvaluationCollector(long fromMs, IReadOnlyDictionary<string, string>? truth, double threshold, double alertRate)
    {
        FromMs = fromMs;
        _truth = truth;
        Threshold = threshold;
        AlertRate = alertRate;
    }

    public long FromMs { get; }

    public double Threshold { get; }

    public double AlertRate { get; }

    /// <summary>Whether any evaluated event carried a label (0 or 1).</summary>
    public bool Labelled
    {
        get { lock (_gate) return _labelled; }
    }

    /// <summary>Events recorded so far.</summary>
    public long Events
    {
        get { lock (_gate) return _events.Count; }
    }

    /// <summary>A scored event: its time, calibrated score and label (-1: none).</summary>
    public void Scored(string userId, long eventMs, double score, int label)
    {
        if (eventMs < FromMs) return;
        lock (_gate)
        {
            if (!_userIndex.TryGetValue(userId, out int user))
            {
                user = _userIds.Count;
                _userIndex.Add(userId, user);
                _userIds.Add(userId);
            }
            _events.Add((user, score, label));
            if (label >= 0) _labelled = true;
            _firstMs = Math.Min(_firstMs, eventMs);
            _lastMs = Math.Max(_lastMs, eventMs);
        }
    }

    /// <summary>An alert the run decided, at its event's time, with that event's label (-1: none).</summary>
    public void Alerted(long eventMs, int label)
    {
        if (eventMs < FromMs) return;
        lock (_gate) _alerts.Add(new AlertedEvent(eventMs, label < 0 ? 0 : label));
    }

    /// <summary>
    /// The run measured like an evaluation: a user's score is the maximum of its event scores in the period, it is
    /// anomalous when one of those events is labelled 1; scenarios from the truth (users it does not name are normal;
    /// without a truth file anomalous users are "anomalous"); metrics per scenario against all normal users, user level
    /// and event level, at <see cref="Threshold"/>. The alerts are the run's own.
    /// </summary>
    public EvaluationResult Result(string model, string version)
    {
        lock (_gate)
        {
            int count = _userIds.Count;
            var userMax = new double[count];
            Array.Fill(userMax, double.NegativeInfinity);
            var userLabel = new int[count];
            foreach (var (user, score, label) in _events)
            {
                if (double.IsFinite(score) || double.IsPositiveInfinity(score)) userMax[user] = Math.Max(userMax[user], score);
                if (label == 1) userLabel[user] = 1;
            }
            var scenarioOf = new string[count];
            var users = new List<UserScore>(count);
            for (int u = 0; u < count; u++)
            {
                string id = _userIds[u];
                // As in eval: the truth's scenario (users it does not name are normal); without a truth file, "anomalous".
                scenarioOf[u] = _truth is { Count: > 0 }
                    ? _truth.GetValueOrDefault(id) ?? TruthTable.Normal
                    : userLabel[u] == 1 ? "anomalous" : TruthTable.Normal;
                users.Add(new UserScore(id, userMax[u], Threshold, userLabel[u], scenarioOf[u]));
            }

            ScenarioMetrics Metrics(string name, Func<int, bool> include)
            {
                var userScores = new List<double>();
                var userLabels = new List<int>();
                for (int u = 0; u < count; u++)
                {
                    if (!include(u)) continue;
                    userScores.Add(userMax[u]);
                    userLabels.Add(userLabel[u]);
                }
                var eventScores = new List<double>();
                var eventLabels = new List<int>();
                foreach (var (user, score, label) in _events)
                {
                    if (!include(user)) continue;
                    eventScores.Add(score);
                    eventLabels.Add(label == 1 ? 1 : 0);
                }
                return new ScenarioMetrics(name, DetectionMetrics.Compute(userScores, userLabels, Threshold), DetectionMetrics.Compute(eventScores, eventLabels, Threshold));
            }

            var overall = Metrics("overall", _ => true);
            var scenarios = scenarioOf.Where(s => s != TruthTable.Normal).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Select(name => Metrics(name, u => scenarioOf[u] == name || scenarioOf[u] == TruthTable.Normal))
                .ToArray();
            var normal = users.Where(u => u.Scenario == TruthTable.Normal && u.Label == 0).ToArray();
            double normalAlertRate = normal.Length == 0 ? 0 : (double)normal.Count(u => u.Score >= Threshold) / normal.Length;
            long from = _events.Count == 0 ? Math.Max(FromMs, 0) : _firstMs, until = _events.Count == 0 ? from : _lastMs;
            double periodDays = Math.Max(1, Math.Ceiling((until - from + 1) / 86_400_000.0));
            var report = new EvaluationReport(model, version, DateTime.UnixEpoch.AddMilliseconds(from), DateTime.UnixEpoch.AddMilliseconds(until), periodDays,
                AlertRate, Threshold, count, _events.Count, normalAlertRate, _clock.Elapsed.TotalSeconds, overall, scenarios);
            return new EvaluationResult(report, users, _alerts.ToArray());
        }
    }
}
