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
/// a rerun resumes and ends with the same state dump as an uninterrupted run (<see cref="UninterruptedRuns"/>, made once
/// for the collection).
/// </summary>
[Collection(UninterruptedRunsCollection.Name)]
public sealed class StoreOutageCliTests(ITestOutputHelper output, UninterruptedRuns uninterrupted)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task SQLite_unwritable_past_the_limit_exits_3_with_one_line_naming_the_file_and_the_rerun_resumes_to_the_clean_state_dump()
    {
        using var dir = new TempDirectory();
        var reference = await uninterrupted.IngestOnlyAsync();
        string input = reference.Input;
        string overlay = dir.File("retry.conf");
        await File.WriteAllTextAsync(overlay, "streamdetect.store.retry.give-up-after = 3s\n", TestContext.Current.CancellationToken);
        string failed = dir.File("failed");
        string db = Path.Combine(failed, "streamdetect.db");
        int code;
        string stderr;

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
        (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "state", "dump", "--data-dir", failed, "--out", Path.Combine(failed, "dump.jsonl"));
        Assert.True(code == 0, stderr);
        string expected = reference.Dump;
        string actual = await File.ReadAllTextAsync(Path.Combine(failed, "dump.jsonl"), TestContext.Current.CancellationToken);
        Assert.True(expected.Length > 1000);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task A_scoring_run_whose_SQLite_files_are_unwritable_for_5_s_completes_with_the_alerts_and_state_dump_of_an_uninterrupted_run()
    {
        using var dir = new TempDirectory();
        // The uninterrupted run: the same traffic, zscore model and fixed thresholds, its alerts and state dump.
        var reference = await uninterrupted.ScoringAsync();
        string[] run = reference.Run;
        string outage = dir.File("outage");
        int code;
        string stderr;

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

        var expected = reference.AlertIds;
        var actual = AlertIds(dir.File("outage.jsonl"));
        output.WriteLine($"{expected.Count} alerts uninterrupted, {actual.Count} with the outage");
        Assert.InRange(expected.Count, 30, int.MaxValue);
        Assert.Equal(actual.Count, actual.Distinct().Count());
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "state", "dump", "--data-dir", outage, "--out", Path.Combine(outage, "dump.jsonl"));
        Assert.True(code == 0, stderr);
        Assert.Equal(await uninterrupted.ScoringDumpAsync(),
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
