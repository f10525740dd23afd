using System.Diagnostics;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Npgsql;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Failures;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// Store outages during a run: PostgreSQL unreachable for 15 s (through a <see cref="TcpOutageProxy"/> the
/// test cuts), a SQLite database whose files cannot be written (made immutable with chattr, which even root
/// cannot write through). Within streamdetect.store.retry.give-up-after the run waits and then completes with
/// exactly the state of an uninterrupted run; past it, the run fails with one line naming the store, and a
/// rerun resumes to the clean state. The uninterrupted runs (one per store kind) are made once for the class
/// (<see cref="UninterruptedStates"/>).
/// </summary>
public sealed class StoreOutageTests(ITestOutputHelper output, UninterruptedStates uninterrupted) : IClassFixture<UninterruptedStates>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static Config SqliteConfig(string dataDirectory, string giveUpAfter = "60s") => EngineConfig.Load(null, $"""
        streamdetect.store.kind = sqlite
        streamdetect.store.data-dir = "{dataDirectory}"
        streamdetect.store.retry.give-up-after = {giveUpAfter}
        streamdetect.entities.snapshot-every = 2000
        """);

    private static Config PostgresConfig(string dataDirectory, string connectionString, string schema) => EngineConfig.Load(null, $"""
        streamdetect.store.kind = postgres
        streamdetect.store.data-dir = "{dataDirectory}"
        streamdetect.store.postgres.connection-string = "{connectionString}"
        streamdetect.store.postgres.schema = {schema}
        streamdetect.entities.snapshot-every = 2000
        # This machine's 2 cores are shared by many test runs: the backlog after the outage may take a while
        # to clear, and the test is about the store, not about the ask timeout.
        streamdetect.routing.ask-timeout = 5m
        """);

    /// <summary>The input, at most <paramref name="eventsPerSecond"/> (so that an outage falls in the middle of the run).</summary>
    /// <summary>
    /// Two stores in their own schemas of the test server: one direct (the uninterrupted run), one through a
    /// <see cref="TcpOutageProxy"/> the test cuts; the schemas are dropped at the end.
    /// </summary>
    private sealed class PostgresOutageStores : IAsyncDisposable
    {
        private readonly string _connection, _cleanSchema, _outageSchema;

        public PostgresOutageStores(string connection, string name, TempDirectory dir)
        {
            _connection = connection;
            var target = new NpgsqlConnectionStringBuilder(connection);
            Proxy = new TcpOutageProxy(target.Host!, target.Port);
            var throughProxy = new NpgsqlConnectionStringBuilder(connection) { Host = "127.0.0.1", Port = Proxy.Port }.ConnectionString;
            string suffix = Guid.NewGuid().ToString("N")[..10];
            (_cleanSchema, _outageSchema) = ($"sd_it_clean_{suffix}", $"sd_it_{name}_{suffix}");
            Clean = PostgresConfig(dir.File("clean"), connection, _cleanSchema);
            Outage = PostgresConfig(dir.File("outage"), throughProxy, _outageSchema);
        }

        public TcpOutageProxy Proxy { get; }
        public Config Clean { get; }
        public Config Outage { get; }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var db = new NpgsqlConnection(_connection);
                await db.OpenAsync(Cancellation);
                foreach (string schema in new[] { _cleanSchema, _outageSchema })
                {
                    await using var drop = db.CreateCommand();
                    drop.CommandText = $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE";
                    await drop.ExecuteNonQueryAsync(Cancellation);
                }
            }
            finally
            {
                await Proxy.DisposeAsync();
            }
        }
    }

    private static Source<IngestedEvent, Task<DeadLetterSummary>> FileSource(string input, int eventsPerSecond = 0)
    {
        var source = EventSources.FromFile(new RecordFileReader(input, 65536), new EventParser(ValidationSettings.Default), DeadLetterFileSink.CountOnly(), new ReadProgress());
        return eventsPerSecond > 0 ? source.Throttle(eventsPerSecond, TimeSpan.FromSeconds(1), eventsPerSecond / 10, ThrottleMode.Shaping) : source;
    }

    /// <summary>
    /// Runs the input through a fresh engine; once <paramref name="outageAfter"/> events are persisted,
    /// <paramref name="outage"/> runs while the stream goes on. Returns the run's failure, or null.
    /// </summary>
    private async Task<Exception?> RunAsync(Config config, string input, long outageAfter = 0, Func<IngestJob, Task>? outage = null, int eventsPerSecond = 0)
    {
        var host = await EngineHost.StartAsync(config, cluster: true, Cancellation);
        try
        {
            var job = new IngestJob(host);
            var run = job.RunAsync(FileSource(input, eventsPerSecond), IngestJob.CountingSink(), () => 0, Cancellation);
            if (outage is not null)
            {
                while (job.Routing.Accepted < outageAfter && !run.IsCompleted) await Task.Delay(10, Cancellation);
                Assert.False(run.IsCompleted, "the input was too small for an outage in the middle of the run");
                await outage(job);
            }
            await run.WaitAsync(Timeout, Cancellation);
            output.WriteLine($"run completed: {job.Routing.Accepted:N0} events persisted");
            return null;
        }
        catch (EnvironmentFailureException e)
        {
            return e;
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>Runs the input until <paramref name="persisted"/> events are persisted, then stops the actor system abruptly (a crash).</summary>
    private static async Task StopAbruptlyAfterAsync(Config config, string input, long persisted)
    {
        var host = await EngineHost.StartAsync(config, cluster: true, Cancellation);
        var job = new IngestJob(host);
        var run = job.RunAsync(FileSource(input, 4_000), IngestJob.CountingSink(), () => 0, Cancellation);
        while (job.Routing.Accepted < persisted && !run.IsCompleted) await Task.Delay(10, Cancellation);
        Assert.False(run.IsCompleted, "the input was too small to stop in the middle");
        await host.System.Terminate();
        await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(5), Cancellation));
    }

    /// <summary>Per user: event count and feature vector, read back from the store by a fresh engine.</summary>
    private static async Task<Dictionary<string, (long Count, float[] Features)>> StatesAsync(Config config)
    {
        await using var host = await EngineHost.StartAsync(config, cluster: false, Cancellation);
        var result = new Dictionary<string, (long, float[])>(StringComparer.Ordinal);
        for (int p = 0; p < host.Settings.Routing.Partitions; p++)
        {
            var states = await Akka.Actor.Futures.Ask<UserStates>(host.Partitions, new GetUserStates(p), TimeSpan.FromSeconds(60), Cancellation);
            foreach (string user in states.States.Keys)
            {
                var state = states.Read(user);
                result[user] = (state.EventCount, state.Features());
            }
        }
        return result;
    }

    /// <summary>
    /// The per-user states of an uninterrupted run over the input on a store of <paramref name="kind"/> (<paramref name="clean"/>
    /// on first use; its state does not change after the run, so it is read at once and kept for the class).
    /// </summary>
    private Task<Dictionary<string, (long Count, float[] Features)>> CleanStatesAsync(Config clean, string kind) => uninterrupted.GetAsync(kind, async () =>
    {
        Assert.Null(await RunAsync(clean, uninterrupted.Input));
        return await StatesAsync(clean);
    });

    private static void AssertSameStates(Dictionary<string, (long Count, float[] Features)> expected, Dictionary<string, (long Count, float[] Features)> actual)
    {
        Assert.True(expected.Count > 100);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (user, (count, features)) in expected)
        {
            Assert.Equal(count, actual[user].Count);
            Assert.Equal(features, actual[user].Features);
        }
    }

    [Fact]
    public async Task PostgreSQL_unreachable_for_15_s_mid_run_the_run_waits_and_completes_with_the_state_of_an_uninterrupted_run()
    {
        string? connection = Environment.GetEnvironmentVariable("STREAMDETECT_PG");
        Assert.SkipWhen(string.IsNullOrEmpty(connection), "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");
        using var dir = new TempDirectory();
        string input = uninterrupted.Input;
        await using var stores = new PostgresOutageStores(connection!, "outage", dir);
        var (outage, proxy) = (stores.Outage, stores.Proxy);
        var expected = await CleanStatesAsync(stores.Clean, "postgres");

        long persistedAtCut = 0, persistedAtRestore = 0;
        var failure = await RunAsync(outage, input, outageAfter: 3_000, eventsPerSecond: 4_000, outage: async job =>
        {
            persistedAtCut = job.Routing.Accepted;
            proxy.Cut();
            await Task.Delay(TimeSpan.FromSeconds(15), Cancellation); // the outage itself
            persistedAtRestore = job.Routing.Accepted;
            proxy.Restore();
        });
        output.WriteLine($"cut at {persistedAtCut:N0} events persisted, {persistedAtRestore:N0} at restore; {proxy.Refused} connections refused meanwhile");
        Assert.True(failure is null, failure?.Message);
        Assert.True(proxy.Refused > 0, "the engine did not try to reach the store during the outage");
        // Nothing was persisted while the store was away: at most the writes already committed when it went.
        Assert.InRange(persistedAtRestore - persistedAtCut, 0, 4_096 * 2);

        AssertSameStates(expected, await StatesAsync(outage));
    }

    [Fact]
    public async Task PostgreSQL_unreachable_from_just_after_a_rerun_starts_the_rerun_waits_and_completes_with_the_state_of_an_uninterrupted_run()
    {
        string? connection = Environment.GetEnvironmentVariable("STREAMDETECT_PG");
        Assert.SkipWhen(string.IsNullOrEmpty(connection), "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");
        using var dir = new TempDirectory();
        string input = uninterrupted.Input;
        await using var stores = new PostgresOutageStores(connection!, "recover", dir);
        var (outage, proxy) = (stores.Outage, stores.Proxy);
        var expected = await CleanStatesAsync(stores.Clean, "postgres");
        // A first run persists part of the input (the partitions then have rows and snapshots to recover).
        await StopAbruptlyAfterAsync(outage, input, 3_000);

        // The rerun's engine starts, then the store goes away before the first batch reaches the partitions.
        // (The partitions' recovery reads are retried too, but this test passes without those retries as well:
        // it does not show that a recovery itself rode out the outage.)
        var host = await EngineHost.StartAsync(outage, cluster: true, Cancellation);
        try
        {
            proxy.Cut();
            var job = new IngestJob(host);
            var run = job.RunAsync(FileSource(input), IngestJob.CountingSink(), () => 0, Cancellation);
            await Task.Delay(TimeSpan.FromSeconds(10), Cancellation); // the outage itself
            Assert.False(run.IsCompleted, run.Exception?.GetBaseException().Message ?? "the run completed during the outage");
            proxy.Restore();
            await run.WaitAsync(Timeout, Cancellation);
            output.WriteLine($"{proxy.Refused} connections refused during the outage; {job.Routing.Accepted:N0} events persisted by the rerun, {job.Routing.Duplicates:N0} replays dropped");
        }
        finally
        {
            await host.DisposeAsync();
        }
        Assert.True(proxy.Refused > 0, "the engine did not try to reach the store during the outage");
        AssertSameStates(expected, await StatesAsync(outage));
    }

    [Fact]
    public async Task SQLite_files_unwritable_for_a_while_mid_run_the_run_waits_and_completes_with_the_state_of_an_uninterrupted_run()
    {
        using var dir = new TempDirectory();
        string input = uninterrupted.Input;
        var expected = await CleanStatesAsync(SqliteConfig(Path.Combine(uninterrupted.Directory, "sqlite-clean")), "sqlite");
        string outageDir = dir.File("outage");
        var outage = SqliteConfig(outageDir);

        var failure = await RunAsync(outage, input, outageAfter: 3_000, eventsPerSecond: 4_000, outage: async job =>
        {
            using var immutable = ImmutableFiles.Set(outageDir);
            long before = job.Routing.Accepted;
            await Task.Delay(TimeSpan.FromSeconds(5), Cancellation); // the outage itself
            output.WriteLine($"{before:N0} events persisted when the files became unwritable, {job.Routing.Accepted:N0} when they were writable again");
        });
        Assert.Null(failure);

        AssertSameStates(expected, await StatesAsync(outage));
    }

    [Fact]
    public async Task SQLite_unwritable_past_give_up_after_fails_the_run_with_one_line_naming_the_file_and_a_rerun_resumes_to_the_clean_state()
    {
        using var dir = new TempDirectory();
        string input = uninterrupted.Input;
        var expected = await CleanStatesAsync(SqliteConfig(Path.Combine(uninterrupted.Directory, "sqlite-clean")), "sqlite");
        string outageDir = dir.File("outage");
        var outage = SqliteConfig(outageDir, giveUpAfter: "3s");

        var clock = new Stopwatch();
        ImmutableFiles? immutable = null;
        Exception? failure;
        try
        {
            failure = await RunAsync(outage, input, outageAfter: 3_000, eventsPerSecond: 4_000, outage: _ =>
            {
                immutable = ImmutableFiles.Set(outageDir);
                clock.Start();
                return Task.CompletedTask;
            });
        }
        finally
        {
            immutable?.Dispose();
        }
        output.WriteLine($"after {clock.Elapsed.TotalSeconds:0.0} s: {failure?.Message}");
        var store = Assert.IsType<EnvironmentFailureException>(failure);
        Assert.Equal(FailedResource.Store, store.Resource);
        Assert.Contains(Path.GetFullPath(Path.Combine(outageDir, "streamdetect.db")), store.Message);
        Assert.DoesNotContain('\n', store.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));

        // The files are writable again: a rerun over the same input resumes from what was written.
        Assert.Null(await RunAsync(outage, input));
        AssertSameStates(expected, await StatesAsync(outage));
    }
}
