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

    /// <summary>The figure files of a page without labels: ROC and precision-recall need them.</summary>
    public static readonly IReadOnlyList<string> UnlabelledFigureFiles = [FigureFiles[2], FigureFiles[3]];

    /// <summary>The figures comparing models: every model's overall ROC and precision-recall curve in one figure each.</summary>
    public static readonly IReadOnlyList<string> ComparisonFigureFiles = ["compare-roc.png", "compare-precision-recall.png"];

    /// <summary>Writes the report of `eval --report` into <paramref name="directory"/> (created when missing); returns the files written.</summary>
    public static IReadOnlyList<string> Write(string directory, EvaluationResult result, EvaluationReportOptions options) =>
        Write(directory, result, options, EvaluationReportPage.Evaluation($"{result.Report.Model}@{result.Report.Version}"));

    /// <summary>Writes the report into <paramref name="directory"/> (created when missing) as <paramref name="page"/> says; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string directory, EvaluationResult result, EvaluationReportOptions options, EvaluationReportPage page)
    {
        Directory.CreateDirectory(directory);
        var figures = SaveFigures(directory, "", result, options, page);
        string html = Path.Combine(directory, HtmlFile);
        File.WriteAllText(html, Html(result.Report, options, page, figures), new UTF8Encoding(false));
        return [html, .. figures.Select(f => Path.Combine(directory, f))];
    }

    /// <summary>
    /// The report of `eval --report` with several models on the same data: every model's overall ROC and precision-recall
    /// curve in one figure each, a table of each model's figures (overall, then PR-AUC / ROC-AUC per scenario), then each
    /// model's own section with its four figures (files prefixed <c>model-N-</c>, N its place on the command line).
    /// </summary>
    public static IReadOnlyList<string> WriteComparison(string directory, IReadOnlyList<EvaluationResult> results, EvaluationReportOptions options)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        string[] names = results.Select((r, i) => $"{r.Report.Model}@{r.Report.Version}" + (results.Take(i).Any(o => o.Report.Model == r.Report.Model && o.Report.Version == r.Report.Version) ? $" (#{i + 1})" : "")).ToArray();
        SaveComparisonCurves(Path.Combine(directory, ComparisonFigureFiles[0]), results, names, options, roc: true);
        SaveComparisonCurves(Path.Combine(directory, ComparisonFigureFiles[1]), results, names, options, roc: false);
        written.AddRange(ComparisonFigureFiles.Select(f => Path.Combine(directory, f)));
        var perModel = new List<IReadOnlyList<string>>();
        for (int i = 0; i < results.Count; i++)
        {
            var figures = SaveFigures(directory, ModelFilePrefix(i), results[i], options, EvaluationReportPage.Evaluation(names[i]));
            perModel.Add(figures);
            written.AddRange(figures.Select(f => Path.Combine(directory, f)));
        }
        string html = Path.Combine(directory, HtmlFile);
        File.WriteAllText(html, ComparisonHtml(results, names, perModel, options), new UTF8Encoding(false));
        return [html, .. written];
    }

    /// <summary>The prefix of model <paramref name="index"/>'s figure files in a comparison (0-based index, 1-based name).</summary>
    public static string ModelFilePrefix(int index) => $"model-{index + 1}-";

    private static IReadOnlyList<string> SaveFigures(string directory, string prefix, EvaluationResult result, EvaluationReportOptions options, EvaluationReportPage page)
    {
        var report = result.Report;
        var files = new List<string>();
        if (page.Labelled)
        {
            var groups = Groups(result.Users);
            SaveRoc(Path.Combine(directory, prefix + FigureFiles[0]), report, groups, options);
            SavePrecisionRecall(Path.Combine(directory, prefix + FigureFiles[1]), report, groups, options);
            files.Add(prefix + FigureFiles[0]);
            files.Add(prefix + FigureFiles[1]);
        }
        SaveHistogram(Path.Combine(directory, prefix + FigureFiles[2]), report, result.Users, options, page.Labelled);
        SaveAlertsOverTime(Path.Combine(directory, prefix + FigureFiles[3]), report, result.Alerts, options, page);
        files.Add(prefix + FigureFiles[2]);
        files.Add(prefix + FigureFiles[3]);
        return files;
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
    /// <remarks>Without labels every user is one class ("all").</remarks>
    private static void SaveHistogram(string path, EvaluationReport report, IReadOnlyList<UserScore> users, EvaluationReportOptions options, bool labelled)
    {
        var plot = NewPlot(labelled ? $"User scores: normal vs anomalous ({report.Model}@{report.Version})" : $"User scores, unlabelled ({report.Model}@{report.Version})",
            "User score (max over the period)", labelled ? "Share of the class's users" : "Share of the users");
        var finite = users.Where(u => double.IsFinite(u.Score)).ToArray();
        if (finite.Length > 0)
        {
            double low = Math.Min(finite.Min(u => u.Score), report.Threshold), high = Math.Max(finite.Max(u => u.Score), report.Threshold);
            if (high <= low) high = low + 1;
            double width = (high - low) / options.HistogramBins;
            var classes = labelled ? new[] { (0, "normal", Colors.SteelBlue), (1, "anomalous", Colors.OrangeRed) } : new[] { (-1, "all", Colors.SteelBlue) };
            foreach (var (label, name, color) in classes)
            {
                var scores = finite.Where(u => label < 0 || u.Label == label).Select(u => u.Score).ToArray();
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
    /// <remarks>A run's page shows the alerts it emitted; without labels, one series of every alert.</remarks>
    private static void SaveAlertsOverTime(string path, EvaluationReport report, IReadOnlyList<AlertedEvent> alerts, EvaluationReportOptions options, EvaluationReportPage page)
    {
        bool daily = report.Until - report.From > TimeSpan.FromDays(8);
        var bucket = daily ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);
        string per = daily ? "day" : "hour";
        var plot = NewPlot(page.AlertsAreEmitted ? $"Alerts the run emitted per {per} ({report.Model}@{report.Version})" : $"Events at or above the threshold per {per} ({report.Model}@{report.Version})",
            "Event time (UTC)", page.AlertsAreEmitted ? $"Alerts per {per}" : $"Alerted events per {per}");
        long start = new DateTimeOffset(report.From.Ticks - report.From.Ticks % bucket.Ticks, TimeSpan.Zero).ToUnixTimeMilliseconds();
        int buckets = Math.Max(1, (int)Math.Ceiling((report.Until - DateTime.UnixEpoch.AddMilliseconds(start)).TotalMilliseconds / bucket.TotalMilliseconds));
        var times = Enumerable.Range(0, buckets + 1).Select(b => DateTime.UnixEpoch.AddMilliseconds(start + b * bucket.TotalMilliseconds)).ToArray();
        var series = page.Labelled
            ? new[] { (1, "on events labelled anomalous", Colors.OrangeRed), (0, "on other events (false alerts)", Colors.SteelBlue) }
            : new[] { (-1, "alerts (no labels)", Colors.SteelBlue) };
        foreach (var (label, name, color) in series)
        {
            var counts = new double[buckets + 1];
            long total = 0;
            foreach (var alert in alerts)
            {
                if (label >= 0 && alert.Label != label) continue;
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

    /// <summary>Every model's overall curve (all users) in one figure, labelled with its ROC-AUC or average precision.</summary>
    private static void SaveComparisonCurves(string path, IReadOnlyList<EvaluationResult> results, string[] names, EvaluationReportOptions options, bool roc)
    {
        var plot = roc
            ? NewPlot("ROC, user level, overall: models compared", "False positive rate (share of normal users alerted)", "True positive rate (recall)")
            : NewPlot("Precision-recall, user level, overall: models compared", "Recall", "Precision");
        if (roc)
        {
            var chance = plot.Add.Line(0, 0, 1, 1);
            chance.LinePattern = LinePattern.Dashed;
            chance.Color = Colors.Gray;
            chance.LegendText = "chance";
        }
        for (int i = 0; i < results.Count; i++)
        {
            var users = results[i].Users;
            double[] scores = users.Select(u => u.Score).ToArray();
            int[] labels = users.Select(u => u.Label).ToArray();
            var (x, y) = roc ? ScoreCurves.Roc(scores, labels) : ScoreCurves.PrecisionRecall(scores, labels);
            if (x.Length == 0) continue;
            var line = plot.Add.ScatterLine(x, y);
            if (!roc) line.ConnectStyle = ConnectStyle.StepVertical;
            double figure = roc ? RankingMetrics.RocAuc(scores, labels) : RankingMetrics.AveragePrecision(scores, labels);
            line.LegendText = $"{names[i]} ({(roc ? "AUC" : "AP")} {figure.ToString("F3", C)})";
            line.LineWidth = 2.5f;
            line.Color = plot.Add.Palette.GetColor(i);
        }
        plot.Axes.SetLimits(-0.01, 1.01, -0.01, roc ? 1.01 : 1.05);
        // ROC curves keep to the upper left; precision-recall curves cross the whole plot, so their legend goes below it.
        if (roc) plot.Legend.Alignment = Alignment.LowerRight;
        else plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, options.FigureWidth, options.FigureHeight);
    }

    private const string Style = "<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}" +
                                 "th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}" +
                                 "tr.overall{font-weight:bold}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}</style>";

    private static string E(string s) => WebUtility.HtmlEncode(s);

    /// <summary>A page's head (its title, HTML-encoded here, and the style) and the opening of its body.</summary>
    private static StringBuilder StartPage(string title)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.AppendLine(C, $"<title>{E(title)}</title>");
        html.AppendLine(Style);
        html.AppendLine("</head><body>");
        return html;
    }

    private static string Html(EvaluationReport report, EvaluationReportOptions options, EvaluationReportPage page, IReadOnlyList<string> figures)
    {
        var html = StartPage($"StreamDetect: {page.Heading}");
        html.AppendLine(C, $"<h1>{E(page.Heading)}</h1>");
        foreach (string note in page.Notes) html.AppendLine(C, $"<p>{E(note)}</p>");
        AppendModelSection(html, report, options, page, figures, level: 2);
        html.AppendLine("</body></html>");
        return html.ToString();
    }

    /// <summary>A model's summary, tables (when labelled) and figures, with headings from <paramref name="level"/> down.</summary>
    private static void AppendModelSection(StringBuilder html, EvaluationReport report, EvaluationReportOptions options, EvaluationReportPage page, IReadOnlyList<string> figures, int level)
    {
        string measured = page.Labelled
            ? string.Create(C, $"; measured {report.NormalUserAlertRate:P2} ({report.AlertRateRatio:F2} x target).")
            : ".";
        html.AppendLine(C, $"<p>Period {report.From:u} .. {report.Until:u} ({report.PeriodDays:F0} days); {report.UsersScored} users and {report.EventsScored} events scored " +
                           $"in {report.ScoringSeconds:F1} s.<br>Decision: {E(report.Decision)}; threshold {report.Threshold:F3}. Normal alert rate: target {report.AlertRate:P2} of normal entities " +
                           $"over their active days ({report.ActiveDaysPerEntity:F2} per entity){measured}</p>");
        if (!page.Labelled)
        {
            html.AppendLine("<p class=\"unlabelled\"><b>The scored events carried no labels:</b> the ROC and precision-recall figures and the per-scenario tables " +
                            "need them and are omitted. The histogram shows every user's score; the alerts figure every alert.</p>");
        }
        else
        {
            html.AppendLine("<p>Each scenario row and curve counts that scenario's users against all normal users; \"overall\" counts every user. " +
                            "A user's score is the maximum of its event scores in the period; a user is anomalous when one of its events in the period is labelled so.</p>");
            foreach (var (name, pick) in new (string, Func<ScenarioMetrics, DetectionMetrics>)[] { ("User level", s => s.Users), ("Event level", s => s.Events) })
            {
                html.AppendLine(C, $"<h{level}>{name}</h{level}>");
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
        }
        html.AppendLine(C, $"<h{level}>Figures</h{level}>");
        if (page.Labelled) html.AppendLine("<p>Curves and histogram at user level; alerts over time at event level.</p>");
        foreach (string file in figures)
            html.AppendLine(C, $"<p><img src=\"{E(file)}\" width=\"{options.FigureWidth}\" height=\"{options.FigureHeight}\" alt=\"{E(AltText(file, page))}\"></p>");
    }

    private static string AltText(string file, EvaluationReportPage page)
    {
        if (file.EndsWith(FigureFiles[0], StringComparison.Ordinal)) return "ROC curves, overall and per scenario";
        if (file.EndsWith(FigureFiles[1], StringComparison.Ordinal)) return "Precision-recall curves, overall and per scenario";
        if (file.EndsWith(FigureFiles[2], StringComparison.Ordinal))
            return page.Labelled ? "Histogram of user scores, normal vs anomalous, with the threshold" : "Histogram of user scores, with the threshold";
        return page.AlertsAreEmitted ? "Alerts the run emitted over time" : "Alerted events over time, true and false";
    }

    private static string ComparisonHtml(IReadOnlyList<EvaluationResult> results, string[] names, IReadOnlyList<IReadOnlyList<string>> perModel, EvaluationReportOptions options)
    {
        var html = StartPage(string.Create(C, $"StreamDetect evaluation: {results.Count} models compared"));
        html.AppendLine(C, $"<h1>Evaluation: {results.Count} models compared</h1>");
        var first = results[0].Report;
        html.AppendLine(C, $"<p>The same data for every model: period {first.From:u} .. {first.Until:u} ({first.PeriodDays:F0} days), {first.UsersScored} users. Each model at its own threshold for the wanted alert rate. Scenario columns: PR-AUC / ROC-AUC of that scenario's users against all normal users.</p>");
        var scenarios = results.SelectMany(r => r.Report.Scenarios.Select(s => s.Scenario)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        html.Append("<table class=\"models\"><tr><th>model</th><th>ROC-AUC</th><th>PR-AUC</th><th>threshold</th><th>precision</th><th>recall</th><th>F1</th><th>normal alerted %</th><th>events/s</th>");
        foreach (string scenario in scenarios) html.Append(C, $"<th>{E(scenario)}</th>");
        html.AppendLine("</tr>");
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i].Report;
            var m = r.Overall.Users;
            html.Append(C, $"<tr><td>{E(names[i])}</td><td>{m.RocAuc:F4}</td><td>{m.PrAuc:F4}</td><td>{r.Threshold:F3}</td><td>{m.Precision:F3}</td><td>{m.Recall:F3}</td><td>{m.F1:F3}</td>" +
                           $"<td>{r.NormalUserAlertRate * 100:F2}</td><td>{r.EventsScored / Math.Max(1e-9, r.ScoringSeconds):F0}</td>");
            foreach (string scenario in scenarios)
            {
                var s = r.Scenarios.FirstOrDefault(x => x.Scenario == scenario);
                html.Append(s is null ? "<td></td>" : string.Create(C, $"<td>{s.Users.PrAuc:F3} / {s.Users.RocAuc:F3}</td>"));
            }
            html.AppendLine("</tr>");
        }
        html.AppendLine("</table>");
        foreach (string file in ComparisonFigureFiles)
            html.AppendLine(C, $"<p><img src=\"{file}\" width=\"{options.FigureWidth}\" height=\"{options.FigureHeight}\" alt=\"{(file == ComparisonFigureFiles[0] ? "ROC" : "Precision-recall")} curves of every model, overall\"></p>");
        for (int i = 0; i < results.Count; i++)
        {
            html.AppendLine(C, $"<h2 id=\"model-{i + 1}\">{E(names[i])}</h2>");
            AppendModelSection(html, results[i].Report, options, EvaluationReportPage.Evaluation(names[i]), perModel[i], level: 3);
        }
        html.AppendLine("</body></html>");
        return html.ToString();
    }
}
