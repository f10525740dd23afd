using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StreamDetect.Integration.Tests.Scoring;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// A store failure as a user meets it, with `streamdetect` as a separate process: the SQLite files become
/// unwritable mid-run and stay so past streamdetect.store.retry.give-up-after; the run exits with code 3
/// and one error line on stderr naming the database file and the cause; once the files are writable again,
/// a rerun resumes and ends with the same state dump as an uninterrupted run.
/// </summary>
public sealed class StoreOutageCliTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task SQLite_unwritable_past_the_limit_exits_3_with_one_line_naming_the_file_and_the_rerun_resumes_to_the_clean_state_dump()
    {
        using var dir = new TempDirectory();
        string input = GeneratedInput.Write(dir.File("in.jsonl"), users: 3000);
        string overlay = dir.File("retry.conf");
        await File.WriteAllTextAsync(overlay, "streamdetect.store.retry.give-up-after = 3s\n", TestContext.Current.CancellationToken);
        string clean = dir.File("clean"), failed = dir.File("failed");
        string db = Path.Combine(failed, "streamdetect.db");

        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "run", "--ingest-only", "--input", input, "--data-dir", clean);
        Assert.True(code == 0, stderr);

        var clock = new Stopwatch();
        using (var process = EngineProcess.Start(dir.Path, "run", "--ingest-only", "--input", input, "--data-dir", failed, "--config", overlay))
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (JournalRows(db) < 50)
            {
                Assert.True(DateTime.UtcNow < deadline, "no journal rows appeared: " + process.Stderr);
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
            using (ImmutableFiles.Set(failed))
            {
                clock.Start();
                code = await process.WaitAsync(Timeout);
                clock.Stop();
            }
            stderr = process.Stderr;
        }
        output.WriteLine($"exit {code} after {clock.Elapsed.TotalSeconds:0.0} s; stderr:\n{stderr}");
        Assert.Equal(3, code);
        var errors = stderr.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        string line = Assert.Single(errors);
        Assert.Contains(Path.GetFullPath(db), line);
        Assert.Contains("SQLite Error", line); // the cause
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));

        (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "run", "--ingest-only", "--input", input, "--data-dir", failed);
        Assert.True(code == 0, stderr);
        foreach (string d in new[] { clean, failed })
        {
            (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "state", "dump", "--data-dir", d, "--out", Path.Combine(d, "dump.jsonl"));
            Assert.True(code == 0, stderr);
        }
        string expected = await File.ReadAllTextAsync(Path.Combine(clean, "dump.jsonl"), TestContext.Current.CancellationToken);
        string actual = await File.ReadAllTextAsync(Path.Combine(failed, "dump.jsonl"), TestContext.Current.CancellationToken);
        Assert.True(expected.Length > 1000);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task A_scoring_run_whose_SQLite_files_are_unwritable_for_5_s_completes_with_the_alerts_and_state_dump_of_an_uninterrupted_run()
    {
        using var dir = new TempDirectory();
        string input = GeneratedInput.Write(dir.File("traffic.jsonl"), users: 1500, days: 2, seed: 17);
        string model = QuickModel.TrainAndSave(dir.Path, "zscore", users: 300, days: 2, seed: 4);
        await File.WriteAllTextAsync(dir.File("fixed.conf"),
            "streamdetect.thresholds { mode = fixed, fixed { new = 1.5, established = 1.5 } }\nstreamdetect.alerts.cooldown = 2h\n",
            TestContext.Current.CancellationToken);
        string[] run = ["run", "--input", input, "--model", model, "--device", "cpu", "--config", dir.File("fixed.conf")];
        string clean = dir.File("clean"), outage = dir.File("outage");

        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, [.. run, "--alerts", dir.File("clean.jsonl"), "--data-dir", clean]);
        Assert.True(code == 0, stderr);

        using (var process = EngineProcess.Start(dir.Path, [.. run, "--alerts", dir.File("outage.jsonl"), "--data-dir", outage]))
        {
            string db = Path.Combine(outage, "streamdetect.db");
            var deadline = DateTime.UtcNow + Timeout;
            while (JournalRows(db) < 50)
            {
                Assert.True(DateTime.UtcNow < deadline, "no journal rows appeared: " + process.Stderr);
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
            using (ImmutableFiles.Set(outage))
                await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken); // the outage itself
            code = await process.WaitAsync(Timeout);
            output.WriteLine(process.Stderr);
            Assert.True(code == 0, process.Stderr);
        }

        var expected = AlertIds(dir.File("clean.jsonl"));
        var actual = AlertIds(dir.File("outage.jsonl"));
        output.WriteLine($"{expected.Count} alerts uninterrupted, {actual.Count} with the outage");
        Assert.InRange(expected.Count, 30, int.MaxValue);
        Assert.Equal(actual.Count, actual.Distinct().Count());
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        foreach (string d in new[] { clean, outage })
        {
            (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "state", "dump", "--data-dir", d, "--out", Path.Combine(d, "dump.jsonl"));
            Assert.True(code == 0, stderr);
        }
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(clean, "dump.jsonl"), TestContext.Current.CancellationToken),
            await File.ReadAllTextAsync(Path.Combine(outage, "dump.jsonl"), TestContext.Current.CancellationToken));
    }

    private static List<string> AlertIds(string file) =>
        File.ReadAllLines(file).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("alertId").GetString()!).ToList();

    private static long JournalRows(string db)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM journal";
            return (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return 0; // table not created yet
        }
    }
}
