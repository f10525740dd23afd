using Akka.Configuration;
using Npgsql;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Persistence;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.Partitions;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// Several engines starting at once on an empty PostgreSQL schema: the schema and the journal and snapshot tables
/// are made by one of them at a time (advisory locks), so none fails on PostgreSQL's catalog race (23505 on
/// pg_type, which made a cluster node exit 1 before). Skipped without STREAMDETECT_PG.
/// </summary>
public sealed class PostgresTableCreationTests
{
    private const int Engines = 4;

    [Fact]
    public async Task Engines_starting_at_once_on_an_empty_schema_all_start_and_find_the_tables()
    {
        string connection = ConnectionOrSkip();
        using var dir = new TempDirectory();
        string schema = $"sd_it_tables_{Guid.NewGuid().ToString("N")[..10]}";
        var hosts = new List<EngineHost>();
        try
        {
            // Each engine on its own thread, released together, so that their starts overlap.
            using var go = new ManualResetEventSlim();
            var starts = Enumerable.Range(0, Engines).Select(i => Task.Run(async () =>
            {
                var config = PostgresConfig(dir.File($"engine-{i}"), schema);
                go.Wait(TestContext.Current.CancellationToken);
                return await EngineHost.StartAsync(config, cluster: false, TestContext.Current.CancellationToken);
            }, TestContext.Current.CancellationToken)).ToList();
            go.Set();
            foreach (var start in starts)
            {
                try
                {
                    hosts.Add(await start);
                }
                catch (Exception e)
                {
                    Assert.Fail($"an engine failed to start on the new schema: {e.Message}");
                }
            }

            // Each engine reads and writes its partitions: a journal that failed to start would never answer.
            for (int i = 0; i < hosts.Count; i++)
            {
                var stats = await Akka.Actor.Futures.Ask<PartitionStats>(hosts[i].Partitions, new FlushScoredMarks(i), TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
                Assert.Equal(i, stats.Partition);
            }
            Assert.Equal(["journal", "snapshot"], await TablesAsync(connection, schema));
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
            await DropAsync(connection, schema);
        }
    }

    [Fact]
    public async Task A_second_engine_waits_for_the_table_lock_until_the_first_releases_it()
    {
        string connection = ConnectionOrSkip();
        string schema = $"sd_it_lock_{Guid.NewGuid().ToString("N")[..10]}";
        var first = PostgresTableCreationLock.Acquire(connection, schema, StoreRetrySettings.Default);
        Task<PostgresTableCreationLock>? second = null;
        try
        {
            second = Task.Run(() => PostgresTableCreationLock.Acquire(connection, schema, StoreRetrySettings.Default), TestContext.Current.CancellationToken);
            // The second session is seen waiting for the advisory lock in pg_locks.
            await Probe.UntilAsync(async () => await WaitingAdvisoryLocksAsync(connection) > 0, TimeSpan.FromSeconds(30), () => "no session waits for the advisory lock");
            Assert.False(second.IsCompleted);
        }
        finally
        {
            first.Dispose();
        }
        using var acquired = await second.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.True(second.IsCompletedSuccessfully);
    }

    private static string ConnectionOrSkip()
    {
        string? connection = Environment.GetEnvironmentVariable("STREAMDETECT_PG");
        Assert.SkipWhen(string.IsNullOrEmpty(connection), "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");
        return connection!;
    }

    private static Config PostgresConfig(string dataDirectory, string schema) => EngineConfig.Load(null, $"""
        streamdetect.store.kind = postgres
        streamdetect.store.data-dir = "{dataDirectory}"
        streamdetect.store.postgres.schema = {schema}
        """);

    private static async Task<long> WaitingAdvisoryLocksAsync(string connection)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = db.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = {0x53440002}";
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private static async Task<List<string>> TablesAsync(string connection, string schema)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT table_name FROM information_schema.tables WHERE table_schema = @schema ORDER BY table_name";
        command.Parameters.AddWithValue("schema", schema);
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken)) tables.Add(reader.GetString(0));
        return tables;
    }

    private static async Task DropAsync(string connection, string schema)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync(CancellationToken.None);
        await using var drop = db.CreateCommand();
        drop.CommandText = $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE";
        await drop.ExecuteNonQueryAsync(CancellationToken.None);
    }
}
