using System.Text.Json;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>
/// The detection quality `streamdetect run` reports for a labelled file, recomputed independently from
/// what the run wrote (the alerts file) and what the generator wrote (the events' labels and the truth
/// file), with the definitions documented on DetectionReport:
/// <list type="bullet">
/// <item>evaluated users: users with at least one event in the evaluated period (with --model: the whole
/// file), not every user of the truth file (users without events never reach the engine);</item>
/// <item>a user is positive when one of its evaluated events is labelled 1, predicted positive when it
/// was alerted at least once (user level: several alerts of one user count once);</item>
/// <item>per scenario (the truth file's name of the positive users): recall = alerted share of the
/// scenario's positive users; precision = those alerted / (those alerted + every alerted
/// non-positive user), i.e. the scenario against all normal users.</item>
/// </list>
/// </summary>
public sealed class DetectionQualityReportTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Per_scenario_precision_and_recall_of_a_labelled_run_match_a_recomputation_from_the_alerts_file()
    {
        using var dir = new TempDirectory("sd-quality-");
        string input = dir.File("labelled.jsonl"), alerts = dir.File("alerts.jsonl"), summaryPath = dir.File("summary.json");
        var (genCode, _, genErr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "gen", "--users", "400", "--days", "3", "--anomaly-rate", "0.1", "--seed", "21", "--out", input);
        Assert.True(genCode == 0, genErr);
        // The model never sees the traffic under test: other users, another seed.
        string model = QuickModel.TrainAndSave(dir.Path, "zscore", users: 300, days: 2, seed: 4);
        // Fixed thresholds: a sure mix of detected anomalies, missed ones and false alerts (checked below).
        await File.WriteAllTextAsync(dir.File("fixed.conf"),
            "streamdetect.thresholds { mode = fixed, fixed { new = 1.0, established = 1.0 } }\n", TestContext.Current.CancellationToken);

        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "run", "--input", input, "--model", model, "--device", "cpu", "--config", dir.File("fixed.conf"),
            "--alerts", alerts, "--summary-json", summaryPath, "--data-dir", dir.File("data"));
        Assert.True(code == 0, stderr);

        // Independent recomputation: the generator's labels and truth, and the alerts the run wrote.
        var truth = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(input + ".truth.json", TestContext.Current.CancellationToken))!;
        var positive = new Dictionary<string, bool>(StringComparer.Ordinal); // every user with an event -> has an event labelled 1
        foreach (string line in File.ReadLines(input))
        {
            using var e = JsonDocument.Parse(line);
            string user = e.RootElement.GetProperty("userId").GetString()!;
            bool labelled = e.RootElement.TryGetProperty("label", out var label) && label.GetInt32() == 1;
            positive[user] = positive.GetValueOrDefault(user) || labelled;
        }
        var alertLines = File.ReadAllLines(alerts).Where(l => l.Length > 0).ToList();
        var alerted = alertLines.Select(l =>
        {
            using var a = JsonDocument.Parse(l);
            return a.RootElement.GetProperty("userId").GetString()!;
        }).ToHashSet(StringComparer.Ordinal);
        Assert.Subset(positive.Keys.ToHashSet(), alerted); // only users with events can be alerted

        int tp = positive.Count(u => u.Value && alerted.Contains(u.Key));
        int fp = positive.Count(u => !u.Value && alerted.Contains(u.Key));
        int fn = positive.Count(u => u.Value && !alerted.Contains(u.Key));
        int normals = positive.Count(u => !u.Value);
        var expectedScenarios = positive.Where(u => u.Value)
            .GroupBy(u => truth.GetValueOrDefault(u.Key, "unknown"))
            .ToDictionary(g => g.Key, g =>
            {
                int users = g.Count(), detected = g.Count(u => alerted.Contains(u.Key));
                double precision = Ratio(detected, detected + fp), recall = Ratio(detected, users);
                return (Users: users, Detected: detected, Precision: precision, Recall: recall, F1: F1(precision, recall));
            });
        output.WriteLine($"{positive.Count} users with events ({positive.Count(u => u.Value)} positive), {alertLines.Count} alerts on {alerted.Count} users: tp {tp}, fp {fp}, fn {fn}");
        foreach (var (scenario, q) in expectedScenarios.OrderBy(s => s.Key, StringComparer.Ordinal))
            output.WriteLine($"  {scenario,-18} users {q.Users} detected {q.Detected} precision {q.Precision:F4} recall {q.Recall:F4}");

        // The run is a real test of the arithmetic only with every kind of outcome present.
        Assert.True(tp > 0 && fp > 0 && fn > 0, $"thresholds should give true, false and missed alerts (tp {tp}, fp {fp}, fn {fn})");
        Assert.True(expectedScenarios.Count >= 5, "most scenarios should have active anomalous users");
        Assert.Contains(expectedScenarios.Values, q => q.Detected > 0 && q.Detected < q.Users);
        // Users who never produced an event are in the truth file but not evaluated.
        Assert.True(truth.Count > positive.Count, "the truth file should name users without events (they must not count)");
        // The generator's labels and truth agree on who is anomalous (so grouping by truth is meaningful).
        Assert.Equal(positive.Where(u => u.Value).Select(u => u.Key).Order(),
            positive.Keys.Where(u => truth.GetValueOrDefault(u, "normal") != "normal").Order());

        using var summaryDocument = JsonDocument.Parse(await File.ReadAllTextAsync(summaryPath, TestContext.Current.CancellationToken));
        var summary = summaryDocument.RootElement;
        Assert.Equal(alertLines.Count, summary.GetProperty("alerts").GetInt64());
        var scoring = summary.GetProperty("scoring");
        Assert.Equal(positive.Count, scoring.GetProperty("evaluated_users").GetInt32());
        Assert.Equal(tp + fn, scoring.GetProperty("anomalous_users").GetInt32());
        Assert.Equal(Ratio(fp, normals), scoring.GetProperty("normal_alert_rate").GetDouble(), 1e-9);

        double overallPrecision = Ratio(tp, tp + fp), overallRecall = Ratio(tp, tp + fn);
        Assert.Equal(overallPrecision, summary.GetProperty("precision").GetDouble(), 1e-9);
        Assert.Equal(overallRecall, summary.GetProperty("recall").GetDouble(), 1e-9);
        Assert.Equal(F1(overallPrecision, overallRecall), summary.GetProperty("f1").GetDouble(), 1e-9);

        var scenarios = summary.GetProperty("scenarios");
        Assert.Equal(expectedScenarios.Keys.Order(StringComparer.Ordinal), scenarios.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var (scenario, expected) in expectedScenarios)
        {
            var reported = scenarios.GetProperty(scenario);
            Assert.Equal(expected.Users, reported.GetProperty("users").GetInt32());
            Assert.Equal(expected.Detected, reported.GetProperty("detected").GetInt32());
            Assert.Equal(expected.Precision, reported.GetProperty("precision").GetDouble(), 1e-9);
            Assert.Equal(expected.Recall, reported.GetProperty("recall").GetDouble(), 1e-9);
            Assert.Equal(expected.F1, reported.GetProperty("f1").GetDouble(), 1e-9);
        }
    }

    private static double Ratio(int numerator, int denominator) => denominator == 0 ? 0 : (double)numerator / denominator;

    private static double F1(double precision, double recall) => precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
}
