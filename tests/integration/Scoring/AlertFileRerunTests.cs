using System.Text.Json;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Scoring;

public sealed class AlertFileRerunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_rerun_on_kept_state_keeps_the_alerts_file_and_writes_no_alert_twice()
    {
        using var dir = new TempDirectory("sd-rerun-");
        string input = dir.File("traffic.jsonl"), alerts = dir.File("alerts.jsonl");
        var (genCode, _, genErr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "gen", "--users", "300", "--days", "2", "--anomaly-rate", "0.1", "--seed", "22", "--out", input);
        Assert.True(genCode == 0, genErr);
        string model = QuickModel.TrainAndSave(dir.Path, "zscore", users: 300, days: 2, seed: 4);
        await File.WriteAllTextAsync(dir.File("fixed.conf"),
            "streamdetect.thresholds { mode = fixed, fixed { new = 1.0, established = 1.0 } }\n", TestContext.Current.CancellationToken);
        string[] run = ["run", "--input", input, "--model", model, "--device", "cpu", "--config", dir.File("fixed.conf"),
            "--alerts", alerts, "--data-dir", dir.File("data")];

        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, [.. run, "--summary-json", dir.File("first.json")]);
        Assert.True(code == 0, stderr);
        string[] first = File.ReadAllLines(alerts);
        Assert.NotEmpty(first);

        // The same input on the same state: every event is a replay, so nothing is scored; the file keeps its alerts.
        (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, [.. run, "--summary-json", dir.File("second.json")]);
        Assert.True(code == 0, stderr);
        Assert.Equal(first, File.ReadAllLines(alerts));
        using var second = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("second.json"), TestContext.Current.CancellationToken));
        Assert.Equal(0, second.RootElement.GetProperty("alerts").GetInt64());
        output.WriteLine($"{first.Length} alerts kept through the rerun");

        // A fresh state starts the file anew.
        await File.WriteAllTextAsync(dir.File("fresh.conf"), "streamdetect.run.fresh-state = on\n", TestContext.Current.CancellationToken);
        (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, [.. run, "--config", dir.File("fresh.conf"), "--summary-json", dir.File("third.json")]);
        Assert.True(code == 0, stderr);
        using var third = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("third.json"), TestContext.Current.CancellationToken));
        var ids = File.ReadAllLines(alerts).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("alertId").GetString()).ToList();
        Assert.Equal(third.RootElement.GetProperty("alerts").GetInt64(), ids.Count); // only this run's alerts
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
