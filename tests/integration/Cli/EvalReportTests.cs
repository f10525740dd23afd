using System.Text.RegularExpressions;
using SkiaSharp;
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
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(reportDirectory, png));
            Assert.NotNull(bitmap);
            Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
            var colours = new HashSet<uint>();
            long drawn = 0;
            var background = bitmap.GetPixel(0, 0);
            for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var pixel = bitmap.GetPixel(x, y);
                colours.Add((uint)pixel);
                if (pixel != background) drawn++;
            }
            double drawnShare = (double)drawn / (bitmap.Width * bitmap.Height);
            // Text, axes, grid and curves in several colours; a blank or failed render is one or two colours.
            Assert.True(colours.Count > 50, $"{png}: only {colours.Count} distinct colours");
            Assert.True(drawnShare > 0.03, $"{png}: only {drawnShare:P2} of the pixels differ from the background");
        }
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
