using System.Diagnostics;
using System.Globalization;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Models.Detection;

namespace StreamDetect.Engine.Reporting;

/// <summary>`run --report DIR`: the page of `eval --report`, drawn from the run's own scores and alerts at the end of the run.</summary>
public static class RunReport
{
    /// <summary>Refuses, in one line naming the option, a report directory that is a file or whose parent does not exist.</summary>
    public static void EnsureDirectory(string directory)
    {
        if (File.Exists(directory)) throw new UserInputException($"--report '{directory}' is a file, not a directory");
        string? parent = Path.GetDirectoryName(Path.GetFullPath(directory));
        if (parent is not null && !Directory.Exists(parent))
            throw new UserInputException($"--report '{directory}': directory '{parent}' does not exist");
    }

    /// <summary>Writes DIR/report.html and its figures; logs where (and, without labels, what was left out) to <paramref name="log"/>.</summary>
    public static IReadOnlyList<string> Write(string directory, RunEvaluationCollector evaluation, IAnomalyDetector detector, RunSummary summary,
        EvaluationReportOptions options, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var result = evaluation.Result(detector.Name, detector.Version);
        bool labelled = evaluation.Labelled;
        var c = CultureInfo.InvariantCulture;
        string period = evaluation.FromMs == long.MinValue
            ? "(every event: the model was given)"
            : string.Create(c, $"(events from {DateTime.UnixEpoch.AddMilliseconds(evaluation.FromMs):u} on: the days before trained the model)");
        var notes = new List<string>
        {
            string.Create(c, $"The run's own verdicts: source {summary.Source}; {summary.EventsIn:N0} events in, {result.Report.EventsScored:N0} of them scored in the evaluated period {period}. Scoring time: from the scoring loop's start to the end of the run."),
            string.Create(c, $"The tables and the histogram measure at the model's fitted threshold {evaluation.Threshold:F3} for the wanted alert rate, as eval does; the run decided its alerts with per-segment thresholds (streamdetect.thresholds), so the alerts figure shows the {result.Alerts.Count:N0} alerts it emitted in the period, and the run summary's detection line counts the users they alerted."),
        };
        var page = new EvaluationReportPage($"Run of {detector.Name}@{detector.Version}", labelled, AlertsAreEmitted: true, notes);
        var files = EvaluationReportWriter.Write(directory, result, options, page);
        log.WriteLine($"report written to '{Path.Combine(directory, EvaluationReportWriter.HtmlFile)}' in {clock.Elapsed.TotalSeconds:F1}s" +
                      (labelled ? "" : " (the input carried no labels: ROC, precision-recall and the per-scenario tables are left out)"));
        return files;
    }
}
