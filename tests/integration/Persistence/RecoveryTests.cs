using Akka.Configuration;
using Akka.Streams.Dsl;
using Microsoft.Data.Sqlite;
using Npgsql;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Entities;
using StreamDetect.Stages.Partitions;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// Crash recovery: a run stopped abruptly after k events, then restarted on the same store and input,
/// ends with exactly the per-user state of an uninterrupted run — nothing lost, nothing counted twice.
/// </summary>
[Collection(UninterruptedRunsCollection.Name)]
public sealed class RecoveryTests(ITestOutputHelper output, UninterruptedRuns uninterrupted)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private static Config SqliteConfig(string dataDirectory) => EngineConfig.Load(null, $"""
        streamdetect.store.kind = sqlite
        streamdetect.store.data-dir = "{dataDirectory}"
        streamdetect.entities.snapshot-every = 500
        """);

    private static Config PostgresConfig(string dataDirectory, string schema) => EngineConfig.Load(null, $"""
        streamdetect.store.kind = postgres
        streamdetect.store.data-dir = "{dataDirectory}"
        streamdetect.store.postgres.schema = {schema}
        streamdetect.entities.snapshot-every = 500
        """);

    private static Source<IngestedEvent, Task<DeadLetterSummary>> FileSource(string input) =>
        EventSources.FromFile(new RecordFileReader(input, 65536), new EventParser(ValidationSettings.Default), DeadLetterFileSink.CountOnly(), new ReadProgress());

    /// <summary>Runs the whole input; when <paramref name="stopAfter"/> is set, terminates the actor system abruptly once that many events are persisted.</summary>
    private static async Task RunAsync(Config config, string input, long? stopAfter = null)
    {
        var host = await EngineHost.StartAsync(config, cluster: true, TestContext.Current.CancellationToken);
        var job = new IngestJob(host);
        var run = job.RunAsync(FileSource(input), IngestJob.CountingSink(), () => 0, TestContext.Current.CancellationToken);
        if (stopAfter is long k)
        {
            while (job.Routing.Accepted < k && !run.IsCompleted) await Task.Delay(5, TestContext.Current.CancellationToken);
            Assert.False(run.IsCompleted, "the input was too small to stop in the middle");
            await host.System.Terminate(); // abrupt: streams and entities are stopped mid-flight
            // The stream dies with the system; its completion task may fault or never complete.
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
            return;
        }
        await run.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        await host.DisposeAsync();
    }

    /// <summary>Per user: events folded, features, and the window's entry types (its session end markers included: the closes must match too).</summary>
    private static async Task<Dictionary<string, (long Count, float[] Features, string Entries)>> StatesAsync(Config config)
    {
        await using var host = await EngineHost.StartAsync(config, cluster: false, TestContext.Current.CancellationToken);
        var result = new Dictionary<string, (long, float[], string)>(StringComparer.Ordinal);
        for (int p = 0; p < host.Settings.Routing.Partitions; p++)
        {
            var states = await Akka.Actor.Futures.Ask<UserStates>(host.Partitions, new GetUserStates(p), TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            foreach (string user in states.States.Keys)
            {
                var state = states.Read(user);
                result[user] = (state.EventCount, state.Features(), $"{state.EntryCount} {state.SessionOpen}: " + string.Join(",", state.Window.ToArray().Select(e => e.Type)));
            }
        }
        return result;
    }

    private static void AssertSameStates(Dictionary<string, (long Count, float[] Features, string Entries)> expected, Dictionary<string, (long Count, float[] Features, string Entries)> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (user, (count, features, entries)) in expected)
        {
            Assert.Equal(count, actual[user].Count);
            Assert.Equal(features, actual[user].Features);
            Assert.Equal(entries, actual[user].Entries);
        }
    }

    [Fact]
    public async Task After_an_abrupt_stop_a_restart_on_the_same_SQLite_store_matches_an_uninterrupted_run()
    {
        using var dir = new TempDirectory();
        string input = GeneratedInput.Write(dir.File("in.jsonl"), users: 1500);
        var clean = SqliteConfig(dir.File("clean"));
        var crashed = SqliteConfig(dir.File("crashed"));

        await RunAsync(clean, input);
        await RunAsync(crashed, input, stopAfter: 3_000);
        var afterCrash = await StatesAsync(crashed);
        await RunAsync(crashed, input);

        var expected = await StatesAsync(clean);
        var actual = await StatesAsync(crashed);
        output.WriteLine($"{expected.Count} users, {expected.Values.Sum(v => v.Count)} events; {afterCrash.Values.Sum(v => v.Count)} were persisted before the stop");
        Assert.InRange(afterCrash.Values.Sum(v => v.Count), 3_000, expected.Values.Sum(v => v.Count) - 1);
        AssertSameStates(expected, actual);
    }

    [Fact]
    public async Task After_an_abrupt_stop_a_restart_on_the_same_PostgreSQL_store_matches_an_uninterrupted_run()
    {
        string? connection = Environment.GetEnvironmentVariable("STREAMDETECT_PG");
        Assert.SkipWhen(string.IsNullOrEmpty(connection), "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");
        using var dir = new TempDirectory();
        string input = GeneratedInput.Write(dir.File("in.jsonl"), users: 1500);
        string suffix = Guid.NewGuid().ToString("N")[..10];
        string cleanSchema = $"sd_it_clean_{suffix}", crashedSchema = $"sd_it_crashed_{suffix}";
        try
        {
            var clean = PostgresConfig(dir.File("clean"), cleanSchema);
            var crashed = PostgresConfig(dir.File("crashed"), crashedSchema);

            await RunAsync(clean, input);
            await RunAsync(crashed, input, stopAfter: 3_000);
            await RunAsync(crashed, input);

            AssertSameStates(await StatesAsync(clean), await StatesAsync(crashed));
        }
        finally
        {
            await using var db = new NpgsqlConnection(connection);
            await db.OpenAsync(TestContext.Current.CancellationToken);
            foreach (string schema in new[] { cleanSchema, crashedSchema })
            {
                await using var drop = db.CreateCommand();
                drop.CommandText = $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE";
                await drop.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            }
        }
    }

    [Fact]
    public async Task After_kill_9_of_the_run_process_a_rerun_gives_the_same_state_dump_as_an_uninterrupted_run()
    {
        using var dir = new TempDirectory();
        // The uninterrupted run over the same input and its state dump, made once for the collection.
        var reference = await uninterrupted.IngestOnlyAsync();
        string input = reference.Input;
        string crashed = dir.File("crashed");
        int code;
        string stderr;

        using (var process = EngineProcess.Start(dir.Path, "run", "--ingest-only", "--input", input, "--data-dir", crashed))
        {
            // Kill once some batches are persisted (journal rows exist) but long before the end.
            string db = Path.Combine(crashed, "streamdetect.db");
            var deadline = DateTime.UtcNow + Timeout;
            while (JournalRows(db) < 200)
            {
                Assert.True(DateTime.UtcNow < deadline, "no journal rows appeared: " + process.Stderr);
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
            process.KillHard();
        }

        (code, string rerunOut, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "run", "--ingest-only", "--input", input, "--data-dir", crashed);
        Assert.True(code == 0, stderr);
        Assert.Contains("replays dropped", rerunOut);

        (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "state", "dump", "--data-dir", crashed, "--out", Path.Combine(crashed, "dump.jsonl"));
        Assert.True(code == 0, stderr);
        string expected = reference.Dump;
        string actual = await File.ReadAllTextAsync(Path.Combine(crashed, "dump.jsonl"), TestContext.Current.CancellationToken);
        Assert.True(expected.Length > 1000);
        Assert.Equal(expected, actual);
    }

    private static long JournalRows(string db)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly");
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
