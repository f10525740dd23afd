using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Evaluation;

namespace StreamDetect.Engine.Online;

/// <summary>
/// `eval --online`: replays a labelled file through the same path as `run` (a <see cref="RunJob"/> on a memory store,
/// the model loaded, the online trainer on its schedule: samples, rounds, gates, shadow, promotion, rollback) and
/// measures per day what the live path alerted on (<see cref="DailyTallyObserver"/>: the tally plain `eval` fills), with
/// the versions the run went through. `--online-learning off` replays the same path frozen (the trainer off).
/// </summary>
public static class OnlineEvaluation
{
    /// <param name="config">The configuration (its store is replaced by a memory store).</param>
    /// <param name="trainedOn">The data before the evaluated period: the anchors and canaries (the traffic the model was trained on).</param>
    /// <param name="fromMs">Start of the evaluated period.</param>
    /// <param name="shadowAlertsPath">Where the shadow versions' alerts go (JSON Lines); null: counted only.</param>
    public static async Task<OnlineEvaluationResult> RunAsync(Config config, string dataPath, string modelPath, string? device, BehaviorDataset trainedOn,
        long firstEventMs, long fromMs, TruthTable truth, bool learn, string? alertsPath, TextWriter log, CancellationToken cancellation,
        string? shadowAlertsPath = null)
    {
        var runConfig = ReplayConfig(config, learn);
        var online = OnlineLearningSettings.ReadForReplay(runConfig);
        var tally = new DailyTallyObserver(firstEventMs, fromMs);
        OnlineTrainer? trainer = null;
        var request = new RunRequest(runConfig, EventSourceKind.File, dataPath, DeadLetterSinkKind.Count, null, modelPath,
            alertsPath is null ? AlertSinkKind.None : AlertSinkKind.File, alertsPath, null, null, device)
        {
            ShadowAlertsPath = shadowAlertsPath,
        };
        var store = StoreSettings.Create(runConfig);
        var job = new RunJob(request, log)
        {
            Online = learn ? OnlineRun.Hook(store, online, log, trainedOn, tally, t => trainer = t) : start => new OnlineScoring(null, tally),
        };
        var outcome = await job.RunAsync(cancellation);
        outcome.Model?.Detector.Dispose();
        var days = tally.Days(user => truth.ScenarioOf(user) == TruthTable.Normal);
        return new OnlineEvaluationResult(days, trainer?.Transitions ?? [], trainer?.Rounds ?? [], trainer?.GuardCounts ?? new Dictionary<string, long>(),
            outcome.Summary.Alerts ?? 0, learn);
    }

    /// <summary>The configuration the replay runs with: a memory store, a fresh state, online learning on or off.</summary>
    public static Config ReplayConfig(Config config, bool learn) => ConfigurationFactory.ParseString(
        $"streamdetect.store.kind = memory\nstreamdetect.online-learning.enabled = {(learn ? "on" : "off")}\nstreamdetect.run.fresh-state = on\n").WithFallback(config);

    /// <summary>The versions table of a run's trainer (for the run report).</summary>
    public static string FormatVersions(OnlineTrainer trainer) =>
        FormatVersions(new OnlineEvaluationResult([], trainer.Transitions, trainer.Rounds, trainer.GuardCounts, 0, true));

    /// <summary>The versions table: one row per transition.</summary>
    public static string FormatVersions(OnlineEvaluationResult result)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        if (!result.Learned) return "online learning off: one version scored everything\n";
        text.AppendLine(c, $"online learning: {result.Rounds.Count} rounds, {result.Transitions.Count} version transitions");
        text.AppendLine(c, $"{"boundary",-17} {"version",-16} {"parent",-16} {"status",-9} reason");
        foreach (var t in result.Transitions)
            text.AppendLine(c, $"{DateTime.UnixEpoch.AddMilliseconds(t.BoundaryKey):yyyy-MM-dd HH:mm} {t.Version,-16} {t.Parent ?? "-",-16} {t.Status,-9} {t.Reason}");
        foreach (var r in result.Rounds)
        {
            string failure = r.Failure is null ? "" : $" (no candidate: {r.Failure})";
            text.AppendLine(c, $"round {r.Round}: {r.Samples} samples of {r.Users} users, {r.Steps} steps, {r.TrainingSeconds:F1} s fine-tuning, {r.GateSeconds:F1} s gates{failure}");
        }
        return text.ToString();
    }

    public static string Json(OnlineEvaluationResult result, JsonSerializerOptions options) => JsonSerializer.Serialize(new
    {
        online_learning = result.Learned,
        alerts = result.Alerts,
        per_day = result.Days,
        versions = result.Transitions.Select(t => new
        {
            version = t.Version,
            parent = t.Parent,
            status = t.Status,
            reason = t.Reason,
            boundary = DateTime.UnixEpoch.AddMilliseconds(t.BoundaryKey).ToString("O", CultureInfo.InvariantCulture),
            gates = t.Gates.Select(g => new { gate = g.Gate, value = double.IsFinite(g.Value) ? g.Value : (double?)null, bound = double.IsFinite(g.Bound) ? g.Bound : (double?)null, passed = g.Passed }),
        }),
        rounds = result.Rounds.Select(r => new
        {
            round = r.Round,
            candidate = r.Candidate,
            samples = r.Samples,
            users = r.Users,
            steps = r.Steps,
            training_seconds = r.TrainingSeconds,
            gate_seconds = r.GateSeconds,
            gates_passed = r.GatesPassed,
            failure = r.Failure,
        }),
        guard = result.GuardCounts,
    }, options);
}
