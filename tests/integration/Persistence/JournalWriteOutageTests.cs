using Npgsql;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Failures;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// One partition's journal write across a PostgreSQL outage, made deterministic: the store is reached through a
/// <see cref="TcpOutageProxy"/>, and the write is cut exactly where the test needs it. Found by the 15 s outage test
/// (StoreOutageTests), which lost a user's events once in a full-suite run: a write committed while its connection
/// was cut was refused by the journal's check as another incarnation's, the partition stopped, and its waiting ask,
/// already sent again, was never told. Skipped without STREAMDETECT_PG.
/// </summary>
public sealed class JournalWriteOutageTests
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_write_committed_while_its_connection_was_cut_counts_as_written_once_the_store_is_back()
    {
        string? connection = Environment.GetEnvironmentVariable("STREAMDETECT_PG");
        Assert.SkipWhen(string.IsNullOrEmpty(connection), "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");
        using var dir = new TempDirectory();
        await using var store = new OutageStore(connection!, "committed");
        await using (var host = await EngineHost.StartAsync(store.Config(dir.File("data")), cluster: false, Cancellation))
        {
            await Akka.Actor.Futures.Ask<PartitionStats>(host.Partitions, new GetPartitionStats(0), AskTimeout, Cancellation); // recovered (empty)
            // The commit of partition 0's first row takes 3 s on the server (a deferred trigger); the connection is cut
            // meanwhile, so the commit succeeds but its answer never reaches the engine: the attempt failed, the row is there.
            await store.ExecuteAsync($"""
                CREATE FUNCTION "{store.Schema}".slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
                CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON "{store.Schema}".journal DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
                  WHEN (NEW.persistence_id = 'user-partition-0' AND NEW.sequence_number = 1) EXECUTE FUNCTION "{store.Schema}".slow_commit();
                """);
            var written = Akka.Actor.Futures.Ask<PartitionReply>(host.Partitions, new PartitionBatch(0, [PartitionBatchEvents.View("a", 1), PartitionBatchEvents.View("b", 2)], null), AskTimeout, Cancellation);
            await store.WaitUntilAsync("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()", 1);
            store.Proxy.Cut();
            await store.WaitUntilAsync($"SELECT count(*) FROM \"{store.Schema}\".journal WHERE persistence_id = 'user-partition-0'", 1);
            store.Proxy.Restore();

            var reply = await written; // was: "journal rows 1..1 of user-partition-0 were written by another incarnation of it"
            Assert.Equal((2, 0), (reply.Accepted, reply.Duplicates));
            Assert.True(store.Proxy.Refused > 0, "the journal did not try the store again during the outage");
            var next = await Akka.Actor.Futures.Ask<PartitionReply>(host.Partitions, new PartitionBatch(0, [PartitionBatchEvents.View("a", 3)], null), AskTimeout, Cancellation);
            Assert.Equal(1, next.Accepted);
        }

        Assert.Equal(2, await store.ScalarAsync($"SELECT count(DISTINCT sequence_number) FROM \"{store.Schema}\".journal WHERE persistence_id = 'user-partition-0'"));
        await using var fresh = await EngineHost.StartAsync(store.Config(dir.File("data")), cluster: false, Cancellation);
        var stats = await Akka.Actor.Futures.Ask<PartitionStats>(fresh.Partitions, new GetPartitionStats(0), AskTimeout, Cancellation);
        Assert.Equal((3L, 2), (stats.EventsApplied, stats.Users));
    }

    [Fact]
    public async Task A_write_given_up_on_fails_the_ask_of_whoever_sent_its_batch_again()
    {
        string? connection = Environment.GetEnvironmentVariable("STREAMDETECT_PG");
        Assert.SkipWhen(string.IsNullOrEmpty(connection), "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");
        using var dir = new TempDirectory();
        await using var store = new OutageStore(connection!, "gaveup");
        await using var host = await EngineHost.StartAsync(store.Config(dir.File("data"), giveUpAfter: "3s"), cluster: false, Cancellation);
        await Akka.Actor.Futures.Ask<PartitionStats>(host.Partitions, new GetPartitionStats(0), AskTimeout, Cancellation); // recovered (empty)
        store.Proxy.Cut();
        var batch = new PartitionBatch(0, [PartitionBatchEvents.View("a", 1)], null);
        // The stream's ask timed out (routing.resend-after) while the store was away, and it sent the batch again: the
        // partition answers the second sender once the write is done, and must tell it when the write fails for good.
        // (It told the first sender only; the stream then sent the batch a third time, to the partition's next incarnation,
        // in any order with its later batches, so a later one accepted first made this one look like a replay: lost.)
        // The first ask is superseded: told nothing, it times out; 5 s, not 30, so the test does not wait that out.
        var first = Akka.Actor.Futures.Ask<PartitionReply>(host.Partitions, batch, TimeSpan.FromSeconds(5), Cancellation);
        var second = Akka.Actor.Futures.Ask<PartitionReply>(host.Partitions, batch, TimeSpan.FromSeconds(30), Cancellation);

        var failure = await Assert.ThrowsAsync<EnvironmentFailureException>(() => second);
        Assert.Equal(FailedResource.Store, failure.Resource);
        Assert.Contains("give-up-after", failure.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Exception>(() => first); // superseded: told nothing, or the same failure
    }

    /// <summary>A schema of the test server reached through a <see cref="TcpOutageProxy"/>; dropped at the end.</summary>
    private sealed class OutageStore : IAsyncDisposable
    {
        private readonly string _direct, _throughProxy;

        public OutageStore(string connection, string name)
        {
            _direct = connection;
            var target = new NpgsqlConnectionStringBuilder(connection);
            Proxy = new TcpOutageProxy(target.Host!, target.Port);
            _throughProxy = new NpgsqlConnectionStringBuilder(connection) { Host = "127.0.0.1", Port = Proxy.Port }.ConnectionString;
            Schema = $"sd_it_{name}_{Guid.NewGuid().ToString("N")[..10]}";
        }

        public TcpOutageProxy Proxy { get; }

        public string Schema { get; }

        public Akka.Configuration.Config Config(string dataDirectory, string giveUpAfter = "60s") => EngineConfig.Load(null, $"""
            streamdetect.store.kind = postgres
            streamdetect.store.data-dir = "{dataDirectory}"
            streamdetect.store.postgres.connection-string = "{_throughProxy}"
            streamdetect.store.postgres.schema = {Schema}
            streamdetect.store.retry.min-backoff = 50ms
            streamdetect.store.retry.max-backoff = 200ms
            streamdetect.store.retry.give-up-after = {giveUpAfter}
            """);

        public async Task ExecuteAsync(string sql)
        {
            await using var db = new NpgsqlConnection(_direct);
            await db.OpenAsync(Cancellation);
            await using var command = db.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(Cancellation);
        }

        public async Task<long> ScalarAsync(string sql)
        {
            await using var db = new NpgsqlConnection(_direct);
            await db.OpenAsync(Cancellation);
            await using var command = db.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(await command.ExecuteScalarAsync(Cancellation), System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>Probes <paramref name="sql"/> (a count) until it is <paramref name="expected"/>, for at most 30 s.</summary>
        public async Task WaitUntilAsync(string sql, long expected)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            long last;
            while ((last = await ScalarAsync(sql)) != expected)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"'{sql}' stayed {last}, not {expected}, for 30 s");
                await Task.Delay(10, Cancellation);
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await ExecuteAsync($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE");
            }
            finally
            {
                await Proxy.DisposeAsync();
            }
        }
    }
}
