using StreamDetect.Engine.Hosting;

namespace StreamDetect.Engine.Pipeline;

/// <summary>Turns an <see cref="IngestResult"/> into the <see cref="RunSummary"/> printed and written by `run`.</summary>
public static class RunSummaryBuilder
{
    public static RunSummary Build(string source, IngestResult result, EngineSettings settings, IReadOnlyDictionary<string, string>? truth)
    {
        var s = result.Statistics;
        var routing = result.Routing;
        var summary = new RunSummary
        {
            Source = source,
            EventsIn = result.RecordsIn,
            EventsValid = s.Events,
            DeadLetters = result.DeadLetters.Total,
            DeadLetterReasons = new Dictionary<string, long>(result.DeadLetters.ByReason),
            Users = s.Users,
            ElapsedS = Math.Round(result.Elapsed.TotalSeconds, 3),
            EventsPerS = Math.Round(s.Events / Math.Max(result.Elapsed.TotalSeconds, 1e-9)),
            StreamingS = Math.Round(result.Streaming.TotalSeconds, 3),
            StreamingEventsPerS = result.Streaming > TimeSpan.Zero ? Math.Round(s.Events / result.Streaming.TotalSeconds) : 0,
            EventTypes = s.PerType.OrderByDescending(p => p.Value).ToDictionary(p => p.Key, p => p.Value),
            Entities = new EntitySummary
            {
                Partitions = settings.Routing.Partitions,
                UsersInState = result.Partitions.Sum(p => p.Users),
                NewUsers = routing.NewUsers,
                EventsPersisted = routing.Accepted,
                DuplicatesDropped = routing.Duplicates,
                JournalRows = routing.Rows,
                EventsPerRow = routing.Rows == 0 ? 0 : Math.Round((double)routing.Accepted / routing.Rows, 1),
                Snapshots = routing.Snapshots,
                EventsInState = result.Partitions.Sum(p => p.EventsApplied),
                SessionsClosed = routing.SessionsClosed,
                EntityKey = settings.Entities.EntityKey,
                MaxRecoveryMs = result.Partitions.Count == 0 ? 0 : result.Partitions.Max(p => p.RecoveryMs),
                Store = settings.Store.Kind,
                DataDir = settings.Store.Kind == "sqlite" ? settings.Store.DataDirectory : null,
            },
        };
        if (s.LabelledEvents > 0)
        {
            summary.LabelledEvents = s.LabelledEvents;
            summary.LabelledAnomalousUsers = s.LabelledAnomalousUsers.Count;
        }
        if (truth is not null)
        {
            summary.AnomalousUsersPerScenario = truth.Values.Where(v => v != "normal")
                .GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        }
        return summary;
    }

    /// <summary>Adds the model, scoring throughput, latency and detection quality.</summary>
    /// <param name="alreadyInOutput">Alerts from before a crash found in the output already (not written again).</param>
    public static void AddScoring(RunSummary summary, ScoringPipeline scoring, TrainedModel model, Models.Detection.IAnomalyDetector detector, long alreadyInOutput = 0)
    {
        var scorer = scoring.Scorer;
        double scorerSeconds = scorer.ScoringTime.TotalSeconds;
        summary.Alerts = scoring.Alerts;
        summary.AlertsAlreadyEmitted = alreadyInOutput;
        summary.AlertsRedelivered = scoring.Redelivered;
        summary.Scoring = new ScoringSummary
        {
            Model = detector.StateKey,
            Device = detector.Device.ToString(),
            ModelFile = model.Path,
            TrainingS = Math.Round(model.TrainingTime.TotalSeconds, 1),
            RequestsScored = scorer.Requests,
            EventsScored = scorer.Events,
            Batches = scorer.Batches,
            MeanBatch = scorer.Batches == 0 ? 0 : Math.Round((double)scorer.Requests / scorer.Batches, 1),
            ScorerS = Math.Round(scorerSeconds, 2),
            ScorerEventsPerS = scorerSeconds <= 0 ? 0 : Math.Round(summary.EventsValid / scorerSeconds),
            LatencyP50Ms = Math.Round(scoring.ScoredLatency.Percentile(0.5), 1),
            LatencyP99Ms = Math.Round(scoring.ScoredLatency.Percentile(0.99), 1),
            AlertLatencyP50Ms = Math.Round(scoring.AlertLatency.Percentile(0.5), 1),
            AlertLatencyP99Ms = Math.Round(scoring.AlertLatency.Percentile(0.99), 1),
            EvaluatedFrom = scoring.Report.FromMs == long.MinValue ? null : DateTime.UnixEpoch.AddMilliseconds(scoring.Report.FromMs).ToString("yyyy-MM-dd'T'HH:mm:ss.FFF'Z'", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (scoring.Schedule is { } schedule)
        {
            summary.Scoring.EventsByModel = new Dictionary<string, long>(scorer.EventsByModel);
            summary.Scoring.PlanChanges = schedule.History.Where(change => change.Changed).ToList();
            summary.Scoring.ShadowAlerts = scoring.Shadow?.Output.Alerts ?? 0;
            summary.Scoring.ShadowAlertsFile = scoring.Shadow?.Output is { Written: > 0 } file ? file.Path : null;
        }
        if (!scoring.Report.HasLabels) return;
        var quality = scoring.Report.Summarize();
        // Unrounded, like the per-scenario figures: the JSON is for machines (the printed report rounds).
        summary.Precision = quality.Precision;
        summary.Recall = quality.Recall;
        summary.F1 = quality.F1;
        summary.Scoring.EvaluatedUsers = quality.Users;
        summary.Scoring.AnomalousUsers = quality.AnomalousUsers;
        summary.Scoring.NormalAlertRate = quality.NormalAlertRate;
        if (quality.PerScenario.Count > 0) summary.Scenarios = new Dictionary<string, ScenarioQuality>(quality.PerScenario);
    }
}
