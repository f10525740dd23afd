using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StreamDetect.Integration.Tests.Scoring;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// Alerts across kill -9, without reading the output back to de-duplicate: every alert is journaled by its
/// user's partition before it is written, marked delivered after, and the partitions' state (not the output)
/// says what is left to do after a crash. Both tests compare with the same uninterrupted run (<see cref="UninterruptedRuns"/>:
/// traffic, a model, fixed thresholds, since a crash must not change a decision), made once.
/// </summary>
[Collection(UninterruptedRunsCollection.Name)]
public sealed class AlertCrashTests(ITestOutputHelper output, UninterruptedRuns uninterrupted)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private sealed record Setup(TempDirectory Dir, string[] Run, HashSet<string> Reference);

    /// <summary>A directory of the test's own, the run's arguments, and the alerts of the uninterrupted run.</summary>
    private async Task<Setup> PrepareAsync(string name)
    {
        var reference = await uninterrupted.ScoringAsync();
        Assert.InRange(reference.AlertIds.Count, 30, int.MaxValue);
        return new Setup(new TempDirectory($"sd-{name}-"), reference.Run, reference.AlertIds.ToHashSet(StringComparer.Ordinal));
    }

    private static List<string> Ids(IEnumerable<string> lines) =>
        lines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("alertId").GetString()!).ToList();

    [Fact]
    public async Task Killed_between_scoring_and_the_alert_output_the_restart_emits_every_alert_exactly_once()
    {
        var setup = await PrepareAsync("undelivered");
        using var dir = setup.Dir;
        string data = dir.File("crashed"), pipe = dir.File("alerts.pipe");
        using (var mkfifo = Process.Start("mkfifo", [pipe])) await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken);

        // Nobody ever reads the pipe: the engine decides, journals and settles alerts, but cannot write one.
        using (var process = EngineProcess.Start(dir.Path, [.. setup.Run, "--alerts", pipe, "--data-dir", data]))
        {
            string db = Path.Combine(data, "streamdetect.db");
            var deadline = DateTime.UtcNow + Timeout;
            while (JournaledAlerts(db) < 10)
            {
                Assert.True(DateTime.UtcNow < deadline, "no alert was journaled: " + process.Stderr);
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
            process.KillHard();
        }
        long journaled = JournaledAlerts(Path.Combine(data, "streamdetect.db"));

        string alerts = dir.File("after.jsonl");
        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, [.. setup.Run, "--alerts", alerts, "--data-dir", data, "--summary-json", dir.File("after.json")]);
        Assert.True(code == 0, stderr);

        var ids = Ids(File.ReadAllLines(alerts));
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("after.json"), TestContext.Current.CancellationToken));
        long redelivered = summary.RootElement.GetProperty("alerts_redelivered").GetInt64();
        output.WriteLine($"{setup.Reference.Count} alerts uninterrupted; {journaled} journal rows with alerts at the kill; after the restart {ids.Count} alerts, {redelivered} of them journaled before the kill");
        Assert.True(redelivered > 0, "alerts journaled before the kill should have been emitted by the restart");
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(setup.Reference.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Killed_while_alerts_are_written_the_restart_cuts_a_partial_line_and_every_alert_appears_once()
    {
        var setup = await PrepareAsync("torn");
        using var dir = setup.Dir;
        string data = dir.File("crashed"), alerts = dir.File("alerts.jsonl");
        string[] run = [.. setup.Run, "--alerts", alerts, "--data-dir", data];

        using (var process = EngineProcess.Start(dir.Path, run))
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (!File.Exists(alerts) || File.ReadAllLines(alerts).Length < 5)
            {
                Assert.True(DateTime.UtcNow < deadline, "no alert was written: " + process.Stderr);
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
            process.KillHard();
        }
        int before = File.ReadAllLines(alerts).Length;
        // What a write cut short by the kill leaves (a crash mid-write on another file system, a full disk).
        await File.AppendAllTextAsync(alerts, "{\"alertId\":\"al-torn\",\"userId\":\"u-", TestContext.Current.CancellationToken);

        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, run);
        Assert.True(code == 0, stderr);
        Assert.Contains("cut a partial last line", stderr);

        var lines = File.ReadAllLines(alerts);
        var ids = Ids(lines); // every line is whole JSON
        output.WriteLine($"{setup.Reference.Count} alerts uninterrupted; {before} written before the kill; {ids.Count} after the restart");
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(setup.Reference.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    /// <summary>Journal rows of any partition that carry alerts (rows are binary; the count of rows written by settlements with alerts is read from the store's own table).</summary>
    private static long JournaledAlerts(string db)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly");
            connection.Open();
            using var command = connection.CreateCommand();
            // A row written for a settlement with alerts holds no events: the "E3" rows whose payload has an alert id.
            command.CommandText = "SELECT count(*) FROM journal WHERE instr(message, CAST('\"alertId\"' AS BLOB)) > 0";
            return (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return 0;
        }
    }
}
