using System.Globalization;
using System.Net;
using System.Text;
using ScottPlot;
using StreamDetect.Models.Evaluation;

namespace StreamDetect.Engine.Reporting;

/// <summary>
/// `eval --report DIR`: DIR/report.html with PNG figures beside it (ScottPlot, rendered by SkiaSharp; sizes from <see cref="EvaluationReportOptions"/>):
/// user-level ROC and precision-recall curves, overall and per scenario (a scenario's users against all
/// normal users, as the table counts them), the score histogram of normal and anomalous users with the
/// threshold, the alerted events over time, and the per-scenario table. Self-contained: no scripts, styles or images from elsewhere.
/// </summary>
public static class EvaluationReportWriter
{
    public const string HtmlFile = "report.html";

    /// <summary>The figure files, in the order the report shows them.</summary>
    public static readonly IReadOnlyList<string> FigureFiles = ["roc.png", "precision-recall.png", "score-histogram.png", "alerts-over-time.png"];

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Writes the report into <paramref name="directory"/> (created when missing); returns the files written.</summary>
    public static IReadOnlyList<string> Write(string directory, EvaluationResult result, EvaluationReportOptions options)
    {
        Directory.CreateDirectory(directory);
        var report = result.Report;
        var groups = Groups(result.Users);
        SaveRoc(Path.Combine(directory, FigureFiles[0]), report, groups, options);
        SavePrecisionRecall(Path.Combine(directory, FigureFiles[1]), report, groups, options);
        SaveHistogram(Path.Combine(directory, FigureFiles[2]), report, result.Users, options);
        SaveAlertsOverTime(Path.Combine(directory, FigureFiles[3]), report, result.Alerts, options);
        string html = Path.Combine(directory, HtmlFile);
        File.WriteAllText(html, Html(report, options), new UTF8Encoding(false));
        return [html, .. FigureFiles.Select(f => Path.Combine(directory, f))];
    }

    /// <summary>"overall" (every user), then each scenario's users with all normal users.</summary>
    private static List<(string Name, double[] Scores, int[] Labels)> Groups(IReadOnlyList<UserScore> users)
    {
        var groups = new List<(string, double[], int[])> { ("overall", users.Select(u => u.Score).ToArray(), users.Select(u => u.Label).ToArray()) };
        foreach (string scenario in users.Select(u => u.Scenario).Where(s => s != TruthTable.Normal).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var members = users.Where(u => u.Scenario == scenario || u.Scenario == TruthTable.Normal).ToArray();
            groups.Add((scenario, members.Select(u => u.Score).ToArray(), members.Select(u => u.Label).ToArray()));
        }
        return groups;
    }

    private static void SaveRoc(string path, EvaluationReport report, List<(string Name, double[] Scores, int[] Labels)> groups, EvaluationReportOptions options)
    {
        var plot = NewPlot($"ROC, user level: {report.Model}@{report.Version}", "False positive rate (share of normal users alerted)", "True positive rate (recall)");
        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        chance.LegendText = "chance";
        foreach (var (group, index) in groups.Select((g, i) => (g, i)))
        {
            var (fpr, tpr) = ScoreCurves.Roc(group.Scores, group.Labels);
            if (fpr.Length == 0) continue;
            var line = plot.Add.ScatterLine(fpr, tpr);
            line.LegendText = $"{group.Name} (AUC {RankingMetrics.RocAuc(group.Scores, group.Labels).ToString("F3", C)})";
            line.LineWidth = index == 0 ? 3 : 1.5f;
            line.Color = index == 0 ? Colors.Black : plot.Add.Palette.GetColor(index - 1);
        }
        plot.Axes.SetLimits(-0.01, 1.01, -0.01, 1.01);
        plot.Legend.Alignment = Alignment.LowerRight;
        plot.SavePng(path, options.FigureWidth, options.FigureHeight);
    }

    private static void SavePrecisionRecall(string path, EvaluationReport report, List<(string Name, double[] Scores, int[] Labels)> groups, EvaluationReportOptions options)
    {
        var plot = NewPlot($"Precision-recall, user level: {report.Model}@{report.Version}", "Recall", "Precision");
        foreach (var (group, index) in groups.Select((g, i) => (g, i)))
        {
            var (recall, precision) = ScoreCurves.PrecisionRecall(group.Scores, group.Labels);
            if (recall.Length == 0) continue;
            var line = plot.Add.ScatterLine(recall, precision);
            line.ConnectStyle = ConnectStyle.StepVertical;
            line.LegendText = $"{group.Name} (AP {RankingMetrics.AveragePrecision(group.Scores, group.Labels).ToString("F3", C)})";
            line.LineWidth = index == 0 ? 3 : 1.5f;
            line.Color = index == 0 ? Colors.Black : plot.Add.Palette.GetColor(index - 1);
        }
        plot.Axes.SetLimits(-0.01, 1.01, -0.01, 1.05);
        plot.ShowLegend(Edge.Right); // beside the plot: weak scenarios' curves run along the bottom, good ones along the top
        plot.SavePng(path, options.FigureWidth, options.FigureHeight);
    }

    /// <summary>Users' scores (max over the period) in shared bins, each class as a share of its own users so both show.</summary>
    private static void SaveHistogram(string path, EvaluationReport report, IReadOnlyList<UserScore> users, EvaluationReportOptions options)
    {
        var plot = NewPlot($"User scores: normal vs anomalous ({report.Model}@{report.Version})", "User score (max over the period)", "Share of the class's users");
        var finite = users.Where(u => double.IsFinite(u.Score)).ToArray();
        if (finite.Length > 0)
        {
            double low = Math.Min(finite.Min(u => u.Score), report.Threshold), high = Math.Max(finite.Max(u => u.Score), report.Threshold);
            if (high <= low) high = low + 1;
            double width = (high - low) / options.HistogramBins;
            foreach (var (label, name, color) in new[] { (0, "normal", Colors.SteelBlue), (1, "anomalous", Colors.OrangeRed) })
            {
                var scores = finite.Where(u => u.Label == label).Select(u => u.Score).ToArray();
                if (scores.Length == 0) continue;
                var counts = new double[options.HistogramBins];
                foreach (double s in scores) counts[Math.Clamp((int)((s - low) / width), 0, options.HistogramBins - 1)]++;
                var bars = Enumerable.Range(0, options.HistogramBins)
                    .Select(b => new Bar { Position = low + (b + 0.5) * width, Value = counts[b] / scores.Length, Size = width, FillColor = color.WithAlpha(0.55), LineWidth = 0 })
                    .ToList();
                plot.Add.Bars(bars);
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{name} ({scores.Length} users)", FillColor = color.WithAlpha(0.55) });
            }
            plot.Add.VerticalLine(report.Threshold, 2, Colors.Black, LinePattern.Dashed);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"threshold {report.Threshold.ToString("F3", C)}", LineColor = Colors.Black, LineWidth = 2, LinePattern = LinePattern.Dashed });
            plot.Axes.Margins(bottom: 0);
        }
        plot.ShowLegend(Edge.Right); // beside the plot: the highest bars are often at the right
        plot.SavePng(path, options.FigureWidth, options.FigureHeight);
    }

    /// <summary>Evaluated events at or above the threshold per hour (per day over periods longer than 8 days),
    /// those labelled anomalous and the others (false alerts), as steps over the period.</summary>
    private static void SaveAlertsOverTime(string path, EvaluationReport report, IReadOnlyList<AlertedEvent> alerts, EvaluationReportOptions options)
    {
        bool daily = report.Until - report.From > TimeSpan.FromDays(8);
        var bucket = daily ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);
        var plot = NewPlot($"Events at or above the threshold per {(daily ? "day" : "hour")} ({report.Model}@{report.Version})",
            "Event time (UTC)", $"Alerted events per {(daily ? "day" : "hour")}");
        long start = new DateTimeOffset(report.From.Ticks - report.From.Ticks % bucket.Ticks, TimeSpan.Zero).ToUnixTimeMilliseconds();
        int buckets = Math.Max(1, (int)Math.Ceiling((report.Until - DateTime.UnixEpoch.AddMilliseconds(start)).TotalMilliseconds / bucket.TotalMilliseconds));
        var times = Enumerable.Range(0, buckets + 1).Select(b => DateTime.UnixEpoch.AddMilliseconds(start + b * bucket.TotalMilliseconds)).ToArray();
        foreach (var (label, name, color) in new[] { (1, "on events labelled anomalous", Colors.OrangeRed), (0, "on other events (false alerts)", Colors.SteelBlue) })
        {
            var counts = new double[buckets + 1];
            long total = 0;
            foreach (var alert in alerts)
            {
                if (alert.Label != label) continue;
                counts[Math.Clamp((int)((alert.TimestampMs - start) / (long)bucket.TotalMilliseconds), 0, buckets - 1)]++;
                total++;
            }
            counts[buckets] = counts[buckets - 1]; // the last step drawn to the end of its bucket
            var line = plot.Add.ScatterLine(times, counts);
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.LineWidth = 2;
            line.Color = color;
            line.LegendText = $"{name}: {total}";
        }
        var timeAxis = plot.Axes.DateTimeTicksBottom();
        if (timeAxis.TickGenerator is ScottPlot.TickGenerators.DateTimeAutomatic ticks)
            ticks.LabelFormatter = t => t.ToString(daily ? "yyyy-MM-dd" : "yyyy-MM-dd\nHH:mm", C);
        plot.XLabel("Event time (UTC)"); // the date-time axis replaced the bottom axis and its label
        plot.Axes.Margins(bottom: 0);
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.SavePng(path, options.FigureWidth, options.FigureHeight);
    }

    private static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.ShowLegend();
        return plot;
    }

    private static string Html(EvaluationReport report, EvaluationReportOptions options)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.AppendLine(C, $"<title>StreamDetect evaluation: {E(report.Model)}@{E(report.Version)}</title>");
        html.AppendLine("<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}" +
                        "th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}" +
                        "tr.overall{font-weight:bold}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}</style>");
        html.AppendLine("</head><body>");
        html.AppendLine(C, $"<h1>Evaluation of {E(report.Model)}@{E(report.Version)}</h1>");
        html.AppendLine(C, $"<p>Period {report.From:u} .. {report.Until:u} ({report.PeriodDays:F0} days); {report.UsersScored} users and {report.EventsScored} events scored " +
                           $"in {report.ScoringSeconds:F1} s.<br>Decision: {E(report.Decision)}; threshold {report.Threshold:F3}. Normal alert rate: target {report.AlertRate:P2} of normal entities " +
                           $"over their active days ({report.ActiveDaysPerEntity:F2} per entity); measured {report.NormalUserAlertRate:P2} ({report.AlertRateRatio:F2} x target).</p>");
        html.AppendLine("<p>Each scenario row and curve counts that scenario's users against all normal users; \"overall\" counts every user. " +
                        "A user's score is the maximum of its event scores in the period; a user is anomalous when one of its events in the period is labelled so.</p>");
        foreach (var (level, pick) in new (string, Func<ScenarioMetrics, DetectionMetrics>)[] { ("User level", s => s.Users), ("Event level", s => s.Events) })
        {
            html.AppendLine(C, $"<h2>{level}</h2>");
            html.AppendLine("<table><tr><th>scenario</th><th>positives</th><th>negatives</th><th>ROC-AUC</th><th>PR-AUC</th><th>precision</th><th>recall</th><th>F1</th><th>alert %</th><th>TP</th><th>FP</th><th>FN</th></tr>");
            foreach (var s in report.Scenarios.Prepend(report.Overall))
            {
                var m = pick(s);
                html.AppendLine(C, $"<tr{(s == report.Overall ? " class=\"overall\"" : "")}><td>{E(s.Scenario)}</td><td>{m.Positives}</td><td>{m.Negatives}</td>" +
                                   $"<td>{m.RocAuc:F4}</td><td>{m.PrAuc:F4}</td><td>{m.Precision:F3}</td><td>{m.Recall:F3}</td><td>{m.F1:F3}</td><td>{m.AlertRate * 100:F3}</td>" +
                                   $"<td>{m.Confusion.TruePositives}</td><td>{m.Confusion.FalsePositives}</td><td>{m.Confusion.FalseNegatives}</td></tr>");
            }
            html.AppendLine("</table>");
        }
        html.AppendLine("<h2>Figures</h2><p>Curves and histogram at user level; alerts over time at event level.</p>");
        foreach (var (file, alt) in FigureFiles.Zip(new[] { "ROC curves, overall and per scenario", "Precision-recall curves, overall and per scenario", "Histogram of user scores, normal vs anomalous, with the threshold", "Alerted events over time, true and false" }))
            html.AppendLine(C, $"<p><img src=\"{file}\" width=\"{options.FigureWidth}\" height=\"{options.FigureHeight}\" alt=\"{E(alt)}\"></p>");
        html.AppendLine("</body></html>");
        return html.ToString();
    }
}
