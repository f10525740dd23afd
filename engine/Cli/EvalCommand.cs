using StreamDetect.Engine.Configuration;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Persistence;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Reporting;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// `streamdetect eval`: scores a labelled event file with a saved model the way the stream would and
/// prints user-level and event-level metrics per scenario. The alert threshold is the model's own,
/// fitted on normal validation users at training time, for the wanted alert rate over the period.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { HelpName = "FILE", Description = "Labelled event file (JSON Lines or CSV with labels); scenarios from FILE.truth.json beside it" };
        var model = new Option<string[]>("--model")
        {
            HelpName = "MODEL",
            Description = "Model file written by `streamdetect train`; give --model again to compare models on the same data (tables per model, then a comparison; --report draws their curves together)",
        };
        var from = new Option<string?>("--from") { HelpName = "ISO8601", Description = "Evaluate events from this ISO 8601 time on (earlier events only warm up the users' state)" };
        var skipDays = new Option<string?>("--skip-days") { HelpName = "D", Description = "Evaluate from D days after midnight UTC of the first event's day (earlier events only warm up)" };
        var json = new Option<string?>("--json") { HelpName = "FILE", Description = "Also write the metrics as JSON to this file" };
        var scores = new Option<string?>("--scores") { HelpName = "FILE", Description = "Write one JSON line per user: {\"userId\",\"score\",\"threshold\",\"label\",\"at\",\"type\",\"members\"} (time and type of the entry that gave the highest score, and each ensemble member's calibrated score of it)" };
        var truth = new Option<string?>("--truth") { HelpName = "FILE", Description = "Truth file (JSON object userId -> scenario or \"normal\"); default: DATA.truth.json (or DATA without extension + .truth.json) when it exists" };
        var device = new Option<string?>("--device") { HelpName = "cpu|cuda|auto", Description = "cpu, cuda or auto (cuda when available); default streamdetect.models.device" };
        var alertRate = new Option<string?>("--alert-rate") { HelpName = "R", Description = "Wanted alert rate on normal users over the period (picks the model's threshold); default streamdetect.models.alert-rate" };
        var threshold = new Option<string?>("--threshold") { HelpName = "T", Description = "Use this fixed threshold (calibrated score) instead of the model's fitted one" };
        var report = new Option<string?>("--report") { HelpName = "DIR", Description = "Also write DIR/report.html with PNG figures beside it: ROC and precision-recall curves, score histogram, per-scenario table" };
        var online = new Option<bool>("--online")
        {
            Description = "Replay the file through the same path as `run` (the engine, online thresholds, cooldowns, the online trainer: samples, fine-tuning rounds, gates, shadow, promotion, rollback) and print per day what it alerted on, with the versions it went through. Needs --skip-days or --from: the days before are the anchors and canaries (the traffic the model was trained on)",
        };
        var onlineLearning = new Option<string?>("--online-learning")
        {
            HelpName = "on|off",
            Description = "With --online: off replays the same path frozen (no trainer), to compare; default on",
        };
        var alertsOut = new Option<string?>("--alerts") { HelpName = "FILE", Description = "With --online: write the alerts the replay emitted as JSON Lines to this file" };
        var shadowAlertsOut = new Option<string?>("--shadow-alerts")
        {
            HelpName = "FILE",
            Description = "With --online: write the alerts the shadow versions would have raised (never emitted) as JSON Lines to this file, with their explanations",
        };

        var command = new Command("eval", "Evaluate a trained model on a labelled event file: PR-AUC, ROC-AUC, precision/recall/F1 per scenario")
        {
            data, model, from, skipDays, json, scores, truth, device, alertRate, threshold, report, online, onlineLearning, alertsOut, shadowAlertsOut,
        };
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, token =>
        {
            string dataPath = TrainCommand.RequireExistingFile(parse.GetValue(data), "--data");
            string[] modelPaths = parse.GetValue(model) is { Length: > 0 } given
                ? given.Select(path => TrainCommand.RequireExistingFile(path, "--model")).ToArray()
                : [TrainCommand.RequireExistingFile(null, "--model")];
            if (modelPaths.Length > 1 && parse.GetValue(scores) is not null)
                throw new UserInputException("--scores writes one model's user scores; give one --model with it");
            if (parse.GetValue(from) is not null && parse.GetValue(skipDays) is not null)
                throw new UserInputException("give --from or --skip-days, not both");
            string? truthPath = parse.GetValue(truth);
            if (truthPath is not null && !File.Exists(truthPath)) throw new UserInputException($"--truth '{truthPath}' does not exist");
            truthPath ??= TruthFile.FindBeside(dataPath);
            foreach (var (option, path) in new[] { ("--json", parse.GetValue(json)), ("--scores", parse.GetValue(scores)) })
            {
                if (path is null) continue;
                string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
                if (directory is not null && !Directory.Exists(directory))
                    throw new UserInputException($"{option} '{path}': directory '{directory}' does not exist");
            }
            string? reportDirectory = parse.GetValue(report);
            if (reportDirectory is not null) RunReport.EnsureDirectory(reportDirectory);

            bool replay = parse.GetValue(online);
            if (!replay)
                foreach (var (name, value) in new[] { ("--online-learning", parse.GetValue(onlineLearning)), ("--alerts", parse.GetValue(alertsOut)), ("--shadow-alerts", parse.GetValue(shadowAlertsOut)) })
                    if (value is not null) throw new UserInputException($"{name} applies to eval --online only");
            bool learn = true;
            if (replay)
            {
                if (modelPaths.Length > 1) throw new UserInputException("eval --online replays one model; give one --model");
                foreach (var (name, value) in new[] { ("--scores", parse.GetValue(scores)), ("--report", reportDirectory), ("--threshold", parse.GetValue(threshold)), ("--alert-rate", parse.GetValue(alertRate)) })
                    if (value is not null) throw new UserInputException($"{name} does not apply to eval --online (the live path decides by its online thresholds)");
                learn = RunCommand.OnOff(parse.GetValue(onlineLearning), "--online-learning") != "off";
                WritableOutputFile.Ensure("--alerts", parse.GetValue(alertsOut));
                WritableOutputFile.Ensure("--shadow-alerts", parse.GetValue(shadowAlertsOut));
            }

            var config = CommonOptions.LoadConfig(parse);
            var defaults = TrainingOptionsReader.Read(config);
            // Every online-learning setting is checked before the data is read and the replay's engine starts.
            if (replay) Online.OnlineLearningSettings.ReadForReplay(Online.OnlineEvaluation.ReplayConfig(config, learn));
            var reportOptions = EvaluationReportOptions.Read(config);
            string deviceName = parse.GetValue(device) ?? defaults.Device;
            TrainCommand.ResolveDevice(deviceName, "--device");
            TrainCommand.ApplyThreads(defaults);
            double rate = TrainCommand.NumberOption(parse.GetValue(alertRate), "--alert-rate") ?? defaults.AlertRate;
            double? fixedThreshold = TrainCommand.NumberOption(parse.GetValue(threshold), "--threshold");
            double? skip = TrainCommand.NumberOption(parse.GetValue(skipDays), "--skip-days");
            if (!(rate > 0 && rate < 1)) throw new UserInputException("--alert-rate must be in (0, 1)");

            TruthTable table;
            try
            {
                table = truthPath is null ? TruthTable.Empty : new TruthTable(TruthFile.Read(truthPath));
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw new UserInputException(e.Message, e);
            }
            // Every model loads before the data is read: a bad file is refused at once.
            var detectors = new List<IAnomalyDetector>();
            try
            {
                foreach (string modelPath in modelPaths)
                {
                    try
                    {
                        detectors.Add(DetectorFile.Load(modelPath, deviceName));
                    }
                    catch (ModelFileException e)
                    {
                        throw new UserInputException(e.Message, e);
                    }
                }
                var clock = Stopwatch.StartNew();
                var events = TrainCommand.ReadEvents(dataPath, config, out long rejected);
                var dataset = DatasetBuilder.Build(events, TrainCommand.WindowSize(config), SessionSettingsReader.Read(config));
                if (dataset.EventCount == 0) throw new UserInputException($"--data '{dataPath}' holds no valid events");
                long start = TrainCommand.TimeOption(parse.GetValue(from), "--from")
                    ?? TrainCommand.DaysAfterStart(dataset.FirstEventMs, skip, "--skip-days")
                    ?? long.MinValue;
                if (start > dataset.LastEventMs) throw new UserInputException("the evaluated period holds no events");
                Console.Error.WriteLine($"read {dataset.EventCount} events of {dataset.Users.Count} users ({dataset.EntryCount - dataset.EventCount} session ends) in {clock.Elapsed.TotalSeconds:F1}s" +
                    (rejected > 0 ? $" ({rejected} records rejected)" : "") + (truthPath is null ? "; no truth file, scenarios from labels" : $"; truth from '{truthPath}'"));
                if (replay)
                {
                    if (start <= dataset.FirstEventMs)
                        throw new UserInputException("eval --online needs --skip-days or --from: the days before the evaluated period are its anchors and canaries (the traffic the model was trained on)");
                    foreach (var detector in detectors) detector.Dispose();
                    detectors.Clear();
                    var result = Online.OnlineEvaluation.RunAsync(config, dataPath, modelPaths[0], deviceName, dataset.Before(start), dataset.FirstEventMs, start, table,
                        learn, parse.GetValue(alertsOut), Console.Error, cancellation, parse.GetValue(shadowAlertsOut)).GetAwaiter().GetResult();
                    Console.Write(FormatPerDay(result.Days));
                    Console.WriteLine();
                    Console.Write(Online.OnlineEvaluation.FormatVersions(result));
                    if (parse.GetValue(json) is string onlineJson) File.WriteAllText(onlineJson, Online.OnlineEvaluation.Json(result, ReportJson));
                    return Task.FromResult(0);
                }

                var results = new List<EvaluationResult>();
                for (int i = 0; i < detectors.Count; i++)
                {
                    if (detectors[i] is AnomalyDetector concrete) concrete.ExplainFrom = defaults.ExplainFrom;
                    var result = Evaluator.Evaluate(detectors[i], dataset, table,
                        new EvaluationOptions(start, rate, defaults.ScoringBatchSize, fixedThreshold), cancellation);
                    results.Add(result);
                    if (i > 0) Console.WriteLine();
                    Console.Write(Format(result.Report));
                }
                if (results.Count > 1)
                {
                    Console.WriteLine();
                    Console.Write(FormatComparison(results.Select(r => r.Report).ToList()));
                }
                if (parse.GetValue(json) is string jsonPath)
                    File.WriteAllText(jsonPath, results.Count == 1
                        ? JsonSerializer.Serialize(results[0].Report, ReportJson)
                        : JsonSerializer.Serialize(results.Select(r => r.Report).ToList(), ReportJson));
                if (parse.GetValue(scores) is string scoresPath)
                    WriteScores(scoresPath, results[0].Users);
                if (reportDirectory is not null)
                {
                    var reportClock = Stopwatch.StartNew();
                    if (results.Count == 1) EvaluationReportWriter.Write(reportDirectory, results[0], reportOptions);
                    else EvaluationReportWriter.WriteComparison(reportDirectory, results, reportOptions);
                    Console.Error.WriteLine($"report written to '{Path.Combine(reportDirectory, EvaluationReportWriter.HtmlFile)}' in {reportClock.Elapsed.TotalSeconds:F1}s");
                }
            }
            finally
            {
                foreach (var detector in detectors) detector.Dispose();
            }
            return Task.FromResult(0);
        }, cancellation));
        return command;
    }

    internal static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static void WriteScores(string path, IReadOnlyList<UserScore> users)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        foreach (var user in users)
        {
            var source = user.Source;
            writer.Write(source is null
                ? JsonSerializer.Serialize(new { userId = user.UserId, score = user.Score, threshold = user.Threshold, label = user.Label })
                : JsonSerializer.Serialize(new
                {
                    userId = user.UserId, score = user.Score, threshold = user.Threshold, label = user.Label,
                    at = DateTime.UnixEpoch.AddMilliseconds(source.TimestampMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                    type = source.Type, members = source.Members,
                }));
            writer.Write('\n');
        }
    }

    /// <summary>Several models on the same data: one row per model, overall user-level figures, then PR-AUC per scenario.</summary>
    internal static string FormatComparison(IReadOnlyList<EvaluationReport> reports)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        var scenarios = reports.SelectMany(r => r.Scenarios.Select(s => s.Scenario)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        text.AppendLine("models compared (user level; scenario columns: PR-AUC of that scenario's users against all normal users)");
        text.Append(c, $"{"model",-32} {"ROC-AUC",8} {"PR-AUC",8} {"prec",7} {"recall",7} {"F1",7} {"normal%",8}");
        foreach (string scenario in scenarios) text.Append(c, $" {(scenario.Length > 12 ? scenario[..12] : scenario),12}");
        text.AppendLine();
        foreach (var r in reports)
        {
            var m = r.Overall.Users;
            text.Append(c, $"{r.Model + "@" + r.Version,-32} {m.RocAuc,8:F4} {m.PrAuc,8:F4} {m.Precision,7:F3} {m.Recall,7:F3} {m.F1,7:F3} {r.NormalUserAlertRate * 100,8:F3}");
            foreach (string scenario in scenarios)
                text.Append(c, $" {r.Scenarios.FirstOrDefault(s => s.Scenario == scenario)?.Users.PrAuc,12:F4}");
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>Below this many calibration entity-days at the target, eval says the threshold rests on the sample's few highest values.</summary>
    internal const double FewCalibrationValues = 5;

    /// <summary>The metrics table: one row per scenario (with all normal users as negatives), user-level then event-level.</summary>
    internal static string Format(EvaluationReport report)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"model {report.Model}@{report.Version}; period {report.From:u} .. {report.Until:u} ({report.PeriodDays:F0} days); " +
            $"{report.UsersScored} users, {report.EventsScored} events scored in {report.ScoringSeconds:F1}s ({report.EventsScored / Math.Max(1e-9, report.ScoringSeconds):F0} events/s)");
        text.AppendLine(c, $"decision: {report.Decision}; threshold {report.Threshold:F3}");
        text.AppendLine(c, $"normal alert rate: target {report.AlertRate:P2} of normal entities over their active days " +
            $"({report.ActiveDaysPerEntity:F2} active days per entity, {report.PerActiveDayRate:P3} per active day); " +
            $"measured {report.NormalUserAlertRate:P2} ({report.AlertRateRatio:F2} x target)");
        if (report.CalibrationEntityDays > 0)
        {
            double atTarget = report.CalibrationEntityDaysAtTarget;
            string note = atTarget < 1
                ? string.Create(c, $" (finer than the sample resolves, 1 of {report.CalibrationEntityDays} = {1.0 / report.CalibrationEntityDays:P3}: the threshold is extrapolated beyond its largest value, and the measured rate can miss the target by far)")
                : atTarget < FewCalibrationValues ? " (the threshold rests on the sample's few highest values: the measured rate varies with them)" : "";
            text.AppendLine(c, $"calibration sample: {report.CalibrationEntityDays} normal validation entity-days; the target per active day is {atTarget:F1} of them{note}");
        }
        if (report.PastAttackers > 0)
            text.AppendLine(c, $"past attackers: {report.PastAttackers} users with anomalous events only before the period, left out of both classes " +
                $"({report.PastAttackersInWindow} with the attack still in their first scored window)");
        foreach (var (level, pick) in new (string, Func<ScenarioMetrics, DetectionMetrics>)[] { ("user-level", s => s.Users), ("event-level", s => s.Events) })
        {
            text.AppendLine();
            text.AppendLine(c, $"{level,-24} {"pos",8} {"neg",9} {"ROC-AUC",8} {"PR-AUC",8} {"prec",7} {"recall",7} {"F1",7} {"alert%",7}  {"TP",7} {"FP",7} {"FN",7}");
            foreach (var s in report.Scenarios.Prepend(report.Overall))
            {
                var m = pick(s);
                text.AppendLine(c, $"{s.Scenario,-24} {m.Positives,8} {m.Negatives,9} {m.RocAuc,8:F4} {m.PrAuc,8:F4} {m.Precision,7:F3} {m.Recall,7:F3} {m.F1,7:F3} {m.AlertRate * 100,7:F3}  " +
                    $"{m.Confusion.TruePositives,7} {m.Confusion.FalsePositives,7} {m.Confusion.FalseNegatives,7}");
            }
        }
        if (report.PerDay.Count > 0)
        {
            text.AppendLine();
            text.Append(FormatPerDay(report.PerDay));
        }
        return text.ToString();
    }

    /// <summary>The per-day table (UTC days): normal users active and alerted, anomalous users and recall.</summary>
    internal static string FormatPerDay(IReadOnlyList<DayMetrics> days)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine("per day (UTC; day 0 = the first event's day; a user is anomalous on a day with an event labelled anomalous)");
        text.AppendLine(c, $"{"day",4} {"date",-10} {"normal",8} {"alerted",8} {"alert%",7} {"anomalous",9} {"alerted",8} {"recall",7}");
        foreach (var d in days)
        {
            string recall = double.IsNaN(d.Recall) ? "-" : d.Recall.ToString("F3", c);
            text.AppendLine(c, $"{d.Day,4} {d.Date,-10} {d.NormalUsers,8} {d.NormalUsersAlerted,8} {d.NormalAlertRate * 100,7:F3} {d.AnomalousUsers,9} {d.AnomalousUsersAlerted,8} {recall,7}");
        }
        return text.ToString();
    }
}
