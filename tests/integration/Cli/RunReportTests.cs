using System.Text.RegularExpressions;
using StreamDetect.Engine.Reporting;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>`run --report DIR` run as a process: the eval page drawn from the run's own scores and alerts, with and without labels.</summary>
public sealed class RunReportTests(TrainedModelFixture trained) : IClassFixture<TrainedModelFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private const int Width = 800, Height = 520;

    [Fact]
    public async Task Run_report_on_labelled_input_writes_the_eval_page_with_every_figure_drawn_and_the_runs_own_alerts()
    {
        using var dir = new TempDirectory("sd-run-report-");
        string reportDirectory = dir.File("report"); // not there yet: the run creates it
        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, RunArguments(dir, trained.Traffic, reportDirectory));
        Assert.True(code == 0, stderr);
        Assert.Contains("report written to", stderr);

        string html = await File.ReadAllTextAsync(Path.Combine(reportDirectory, EvaluationReportWriter.HtmlFile), TestContext.Current.CancellationToken);
        var pngs = Directory.GetFiles(reportDirectory, "*.png").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(EvaluationReportWriter.FigureFiles.Order(StringComparer.Ordinal), pngs);
        var referenced = Regex.Matches(html, "<img src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(pngs, referenced);
        Assert.Contains($"width=\"{Width}\" height=\"{Height}\"", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http", html);

        // The tables: a row for everyone and one per scenario of the truth file beside the input.
        Assert.Contains("<td>overall</td>", html);
        var scenarios = Regex.Matches(html, "<tr><td>([a-z_]+)</td>").Select(m => m.Groups[1].Value).Distinct().ToArray();
        Assert.True(scenarios.Length >= 2, $"the table should name scenarios, names {string.Join(", ", scenarios)}");
        // The alerts it counts are the run's: the model was given, so every event is in the period and every alert written counts.
        long alerts = File.ReadAllLines(dir.File("alerts.jsonl")).Length;
        Assert.InRange(alerts, 1, long.MaxValue);
        Assert.Contains($"shows the {alerts:N0} alerts it emitted", html);
        Assert.Contains("Run of zscore@", html);

        foreach (string png in pngs)
            FigureCheck.AssertDrawn(Path.Combine(reportDirectory, png), Width, Height);
    }

    [Fact]
    public async Task Run_report_of_a_generator_run_that_trains_its_model_counts_the_users_of_the_days_after_training_as_the_summary_does()
    {
        using var dir = new TempDirectory("sd-run-report-generator-");
        await File.WriteAllTextAsync(dir.File("small.conf"),
            "streamdetect.generator { users = 400, days = 3 }\nstreamdetect.run.train-days = 1\nstreamdetect.run.model = zscore\n", TestContext.Current.CancellationToken);
        string reportDirectory = dir.File("report");
        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "run", "--config", dir.File("small.conf"), "--data-dir", dir.File("data"),
            "--alerts", dir.File("alerts.jsonl"), "--summary-json", dir.File("summary.json"), "--report", reportDirectory);
        Assert.True(code == 0, stderr);

        string html = await File.ReadAllTextAsync(Path.Combine(reportDirectory, EvaluationReportWriter.HtmlFile), TestContext.Current.CancellationToken);
        Assert.Contains("source generator", html);
        Assert.Contains("on: the days before trained the model)", html);
        // The user-level overall row counts the users the run's detection summary counts: active after the training days.
        using var summary = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("summary.json"), TestContext.Current.CancellationToken));
        var scoring = summary.RootElement.GetProperty("scoring");
        var overall = Regex.Match(html, "<tr class=\"overall\"><td>overall</td><td>(\\d+)</td><td>(\\d+)</td>");
        Assert.True(overall.Success, "no overall row");
        int positives = int.Parse(overall.Groups[1].Value), negatives = int.Parse(overall.Groups[2].Value);
        Assert.Equal(scoring.GetProperty("anomalous_users").GetInt32(), positives);
        Assert.Equal(scoring.GetProperty("evaluated_users").GetInt32(), positives + negatives);
        var pngs = Directory.GetFiles(reportDirectory, "*.png").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(EvaluationReportWriter.FigureFiles.Order(StringComparer.Ordinal), pngs);
        foreach (string png in pngs)
            FigureCheck.AssertDrawn(Path.Combine(reportDirectory, png), 900, 600);
    }

    [Fact]
    public async Task Run_report_on_input_without_labels_says_so_and_leaves_out_what_needs_them()
    {
        using var dir = new TempDirectory("sd-run-report-unlabelled-");
        // The same traffic without its label field, and no truth file beside it.
        string unlabelled = dir.File("unlabelled.jsonl");
        var lines = File.ReadLines(trained.Traffic).Select(line => Regex.Replace(line, ",\"label\":-?\\d+", "")).ToList();
        Assert.DoesNotContain(lines, line => line.Contains("\"label\"", StringComparison.Ordinal));
        await File.WriteAllLinesAsync(unlabelled, lines, TestContext.Current.CancellationToken);
        string reportDirectory = dir.File("report");
        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, RunArguments(dir, unlabelled, reportDirectory));
        Assert.True(code == 0, stderr);
        Assert.Contains("the input carried no labels", stderr);

        string html = await File.ReadAllTextAsync(Path.Combine(reportDirectory, EvaluationReportWriter.HtmlFile), TestContext.Current.CancellationToken);
        Assert.Contains("The scored events carried no labels:", html);
        Assert.DoesNotContain("<table", html);
        var pngs = Directory.GetFiles(reportDirectory, "*.png").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(EvaluationReportWriter.UnlabelledFigureFiles.Order(StringComparer.Ordinal), pngs);
        foreach (string png in pngs)
            FigureCheck.AssertDrawn(Path.Combine(reportDirectory, png), Width, Height);
    }

    [Fact]
    public async Task Run_report_with_ingest_only_is_refused_in_one_line_before_the_run()
    {
        using var dir = new TempDirectory("sd-run-report-refused-");
        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "run", "--input", trained.Traffic, "--ingest-only", "--data-dir", dir.File("data"), "--report", dir.File("report"));
        Assert.Equal(2, code);
        Assert.Equal("", stdout.Trim());
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, stderr);
        Assert.Contains("--report needs scoring", lines[0]);
        Assert.False(Directory.Exists(dir.File("report")));
    }

    private string[] RunArguments(TempDirectory dir, string input, string reportDirectory)
    {
        // A figure size other than the default: the PNGs must follow streamdetect.report.
        File.WriteAllText(dir.File("report.conf"), $"streamdetect.report {{ figure-width = {Width}, figure-height = {Height} }}\n");
        return ["run", "--input", input, "--model", trained.Model, "--device", "cpu", "--alerts", dir.File("alerts.jsonl"), "--data-dir", dir.File("data"),
            "--config", dir.File("report.conf"), "--report", reportDirectory];
    }
}
