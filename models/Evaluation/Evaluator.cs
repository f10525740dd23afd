using System.Diagnostics;
using StreamDetect.Models.Calibration;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Replay;

namespace StreamDetect.Models.Evaluation;

/// <summary>
/// Scores a labelled dataset the way the stream would (<see cref="StreamingReplay"/>; events before the
/// evaluated period only warm up the state) and measures the result. The threshold comes from the
/// detector's fit on normal validation users (or is given); test labels are only compared against.
/// No point-adjust: every event and every user counts once.
/// </summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(IAnomalyDetector detector, BehaviorDataset data, TruthTable truth, EvaluationOptions options,
        CancellationToken cancellation = default)
    {
        long from = Math.Max(options.FromMs, data.FirstEventMs);
        double periodDays = Math.Max(1, Math.Ceiling((data.LastEventMs - from + 1) / 86_400_000.0));
        // The target holds per active entity: the evaluated entities' active days, measured on the evaluated
        // events (no labels involved), turn it into a per-active-day rate.
        var activity = ActivityOf(data, from);
        double threshold = options.Threshold ?? (detector.Threshold.IsFitted
            ? detector.Threshold.For(options.AlertRate, activity)
            : throw new InvalidOperationException("the detector has no fitted threshold; give one"));

        var userMax = new double[data.Users.Count];
        Array.Fill(userMax, double.NaN);
        var userSource = new UserScoreSource?[data.Users.Count];
        var firstScored = new int[data.Users.Count];
        Array.Fill(firstScored, -1);
        var eventScores = new List<(int User, double Score, int Label)>();
        var alerts = new List<AlertedEvent>();
        var days = new DailyTally(data.FirstEventMs);
        var clock = Stopwatch.StartNew();
        long scored = StreamingReplay.Run(data, detector, new ReplayOptions(options.BatchSize, from), s =>
        {
            double score = s.Output.Score;
            if (firstScored[s.UserIndex] < 0) firstScored[s.UserIndex] = s.EventIndex;
            if (double.IsNaN(userMax[s.UserIndex]) || score > userMax[s.UserIndex])
            {
                userMax[s.UserIndex] = score;
                userSource[s.UserIndex] = SourceOf(data.Users[s.UserIndex], s);
            }
            int label = data.Users[s.UserIndex].LabelAt(s.EventIndex);
            eventScores.Add((s.UserIndex, score, label));
            if (score >= threshold) alerts.Add(new AlertedEvent(s.TimestampMs, label));
            days.Add(s.UserIndex, s.TimestampMs, score >= threshold, label == 1);
        }, cancellation);
        double seconds = clock.Elapsed.TotalSeconds;

        var users = new List<UserScore>();
        var scenarioOf = new string[data.Users.Count];
        var userLabel = new int[data.Users.Count];
        var carriedOver = new bool[data.Users.Count];
        int carriedOverUsers = 0, carriedOverInWindow = 0;
        for (int u = 0; u < data.Users.Count; u++)
        {
            var user = data.Users[u];
            scenarioOf[u] = truth.ScenarioOf(user.UserId);
            if (truth.Count == 0 && user.HasPositiveLabel()) scenarioOf[u] = "anomalous";
            if (double.IsNaN(userMax[u])) continue;
            userLabel[u] = user.HasPositiveLabel(from) ? 1 : 0;
            // A past attacker: labelled anomalous events before the period, none in it. Its state at the first scored
            // event (window, profile counters, a model's rebuilt state) was built on the attack, so it is neither a clean
            // normal user nor an in-period attacker: left out of both classes (user and event level), and counted.
            if (userLabel[u] == 0 && user.HasPositiveLabel(long.MinValue, from))
            {
                carriedOver[u] = true;
                carriedOverUsers++;
                if (AttackInFirstWindow(user, firstScored[u], data.WindowCapacity)) carriedOverInWindow++;
                continue;
            }
            users.Add(new UserScore(user.UserId, userMax[u], threshold, userLabel[u], scenarioOf[u]) { Source = userSource[u] });
        }

        ScenarioMetrics Metrics(string name, Func<int, bool> include)
        {
            var userScores = new List<double>();
            var userLabels = new List<int>();
            for (int u = 0; u < data.Users.Count; u++)
            {
                if (double.IsNaN(userMax[u]) || carriedOver[u] || !include(u)) continue;
                userScores.Add(userMax[u]);
                userLabels.Add(userLabel[u]);
            }
            var eventScoreList = new List<double>();
            var eventLabels = new List<int>();
            foreach (var (user, score, label) in eventScores)
            {
                if (carriedOver[user] || !include(user)) continue;
                eventScoreList.Add(score);
                eventLabels.Add(label);
            }
            return new ScenarioMetrics(name,
                DetectionMetrics.Compute(userScores, userLabels, threshold),
                DetectionMetrics.Compute(eventScoreList, eventLabels, threshold));
        }

        var overall = Metrics("overall", _ => true);
        var scenarios = scenarioOf.Where(s => s != TruthTable.Normal).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(name => Metrics(name, u => scenarioOf[u] == name || scenarioOf[u] == TruthTable.Normal))
            .ToArray();
        var normalUsers = users.Where(u => u.Scenario == TruthTable.Normal && u.Label == 0).ToArray();
        double normalAlertRate = normalUsers.Length == 0 ? 0 : (double)normalUsers.Count(u => u.Score >= threshold) / normalUsers.Length;

        var report = new EvaluationReport(detector.Name, detector.Version,
            DateTime.UnixEpoch.AddMilliseconds(from), DateTime.UnixEpoch.AddMilliseconds(data.LastEventMs), periodDays,
            options.AlertRate, threshold, users.Count, scored, normalAlertRate, seconds, overall, scenarios)
        {
            Decision = options.Threshold is null ? detector.DecisionRule : "the given threshold",
            ActiveDaysPerEntity = activity.MeanActiveDays,
            PerActiveDayRate = activity.PerActiveDayRate(options.AlertRate),
            CalibrationEntityDays = options.Threshold is null && detector.Threshold.DecisionScore is null ? detector.Threshold.UserDays : 0,
            PerDay = days.Days(u => scenarioOf[u] == TruthTable.Normal),
            PastAttackers = carriedOverUsers,
            PastAttackersInWindow = carriedOverInWindow,
        };
        return new EvaluationResult(report, users, alerts);
    }

    /// <summary>Whether the window of the user's first scored entry (its <paramref name="windowCapacity"/> newest entries)
    /// still holds an entry labelled anomalous.</summary>
    private static bool AttackInFirstWindow(UserSequence user, int firstScored, int windowCapacity)
    {
        if (firstScored < 0) return false;
        for (int j = Math.Max(0, firstScored - windowCapacity + 1); j < firstScored; j++)
            if (user.LabelAt(j) == 1) return true;
        return false;
    }

    /// <summary>What the entry of a replay score is and each member's calibrated score of it (the replay scores one entry per output).</summary>
    private static UserScoreSource SourceOf(UserSequence user, ReplayScore score)
    {
        var members = new Dictionary<string, double>(StringComparer.Ordinal);
        int last = score.Output.Count - 1;
        foreach (var member in score.Output.Members) members[member.Model] = member.ScoreAt(last);
        return new UserScoreSource(user.Entries[score.EventIndex].Type, score.TimestampMs, members);
    }

    /// <summary>The active days of the entities with events in the evaluated period (from <paramref name="fromMs"/> on).</summary>
    public static EntityActivity ActivityOf(BehaviorDataset data, long fromMs) =>
        EntityActivity.Measure(data.Users.Select(user => Enumerable.Range(0, user.Count).Select(user.TimestampMs).Where(t => t >= fromMs)));
}
