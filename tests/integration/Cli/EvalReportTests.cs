using System.Text.RegularExpressions;
using StreamDetect.Engine.Reporting;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>`eval --report DIR` run as a process: the HTML and its PNG figures, decoded and looked at pixel by pixel.</summary>
public sealed class EvalReportTests(TrainedModelFixture trained) : IClassFixture<TrainedModelFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Eval_report_writes_an_html_page_that_shows_every_png_figure_and_the_figures_are_drawn()
    {
        using var dir = new TempDirectory("sd-eval-report-");
        string reportDirectory = dir.File("report"); // not there yet: eval creates it
        // A figure size other than the default: the PNGs must follow streamdetect.report.
        const int width = 800, height = 520;
        await File.WriteAllTextAsync(dir.File("report.conf"), $"streamdetect.report {{ figure-width = {width}, figure-height = {height} }}\n",
            TestContext.Current.CancellationToken);
        var (code, stdout, stderr) = await EngineProcess.RunAsync(trained.Directory, Timeout,
            "eval", "--data", trained.Traffic, "--model", trained.Model, "--device", "cpu", "--config", dir.File("report.conf"), "--report", reportDirectory);
        Assert.True(code == 0, stderr);
        Assert.Contains("overall", stdout); // the text tables are still printed
        Assert.Contains("report written to", stderr);

        string html = await File.ReadAllTextAsync(Path.Combine(reportDirectory, EvaluationReportWriter.HtmlFile), TestContext.Current.CancellationToken);
        var pngs = Directory.GetFiles(reportDirectory, "*.png").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(EvaluationReportWriter.FigureFiles.Order(StringComparer.Ordinal), pngs);
        var referenced = Regex.Matches(html, "<img src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(pngs, referenced);
        Assert.Contains($"width=\"{width}\" height=\"{height}\"", html);
        // Self-contained: nothing fetched from elsewhere.
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<script", html);
        // The per-scenario table: a row per scenario the truth file names (and one for everyone).
        Assert.Contains("<td>overall</td>", html);
        var scenarios = Regex.Matches(html, "<tr><td>([a-z_]+)</td>").Select(m => m.Groups[1].Value).Distinct().ToArray();
        Assert.True(scenarios.Length >= 2, $"the table should name scenarios, names {string.Join(", ", scenarios)}");

        foreach (string png in pngs)
            FigureCheck.AssertDrawn(Path.Combine(reportDirectory, png), width, height);
    }

    [Fact]
    public async Task Eval_with_two_models_compares_them_in_one_report_with_both_curves_and_a_table_of_each()
    {
        using var dir = new TempDirectory("sd-eval-compare-");
        string second = dir.File("iforest.sdm");
        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "train", "--data", trained.Traffic, "--model", "iforest", "--out", second);
        Assert.True(code == 0, stderr);
        string reportDirectory = dir.File("report");
        (code, string stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "eval", "--data", trained.Traffic, "--model", trained.Model, "--model", second, "--device", "cpu", "--report", reportDirectory, "--json", dir.File("metrics.json"));
        Assert.True(code == 0, stderr);

        // Text: each model's tables, then one comparison row per model.
        string[] models = Regex.Matches(stdout, @"^model ([a-z]+@[0-9a-f]+);", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(2, models.Length);
        Assert.StartsWith("zscore@", models[0]);
        Assert.StartsWith("iforest@", models[1]);
        string comparison = stdout[stdout.IndexOf("models compared", StringComparison.Ordinal)..];
        Assert.All(models, model => Assert.Matches($@"(?m)^{Regex.Escape(model)} +\d\.\d{{4}} +\d\.\d{{4}}", comparison));
        using (var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("metrics.json"), TestContext.Current.CancellationToken)))
            Assert.Equal(2, json.RootElement.GetArrayLength());

        // The page: both models in the comparison table, each with its own section and figures.
        string html = await File.ReadAllTextAsync(Path.Combine(reportDirectory, EvaluationReportWriter.HtmlFile), TestContext.Current.CancellationToken);
        string table = html[html.IndexOf("<table class=\"models\">", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("</table>", StringComparison.Ordinal)];
        Assert.All(models, model => Assert.Contains($"<tr><td>{model}</td>", table));
        Assert.All(models, model => Assert.Contains($"<h2 id=\"model-{Array.IndexOf(models, model) + 1}\">{model}</h2>", html));
        string[] expected = [.. EvaluationReportWriter.ComparisonFigureFiles,
            .. Enumerable.Range(0, 2).SelectMany(i => EvaluationReportWriter.FigureFiles.Select(f => EvaluationReportWriter.ModelFilePrefix(i) + f))];
        var pngs = Directory.GetFiles(reportDirectory, "*.png").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected.Order(StringComparer.Ordinal), pngs);
        var referenced = Regex.Matches(html, "<img src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(pngs, referenced);
        foreach (string png in pngs)
            FigureCheck.AssertDrawn(Path.Combine(reportDirectory, png), 900, 600);
    }

    [Fact]
    public async Task Eval_report_naming_a_file_is_refused_in_one_line_before_scoring()
    {
        using var dir = new TempDirectory("sd-eval-report-");
        await File.WriteAllTextAsync(dir.File("taken"), "not a directory\n", TestContext.Current.CancellationToken);
        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "eval", "--data", trained.Traffic, "--model", trained.Model, "--device", "cpu", "--report", "taken");
        Assert.Equal(2, code);
        Assert.Equal("", stdout.Trim()); // no metrics: refused before reading the data
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, stderr);
        Assert.Contains("--report 'taken' is a file, not a directory", lines[0]);
    }
}
