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
/// Two incarnations of one partition writing at once (what a partition hand-off must never allow): the second one's
/// write hits sequence numbers the first one took. The journal's check after a failed write used to find rows at
/// those numbers and count the write as done, losing its events without a word; now it sees another writer's rows
/// and the write fails, naming them. Skipped without STREAMDETECT_PG.
/// </summary>
public sealed class TwoWriterJournalTests
{

    [Fact]
    public async Task A_write_on_sequence_numbers_another_incarnation_took_fails_instead_of_counting_as_done()
    {
        string? connection = Environment.GetEnvironmentVariable("STREAMDETECT_PG");
        Assert.SkipWhen(string.IsNullOrEmpty(connection), "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");
        using var dir = new TempDirectory();
        string schema = $"sd_it_writers_{Guid.NewGuid().ToString("N")[..10]}";
        var timeout = TimeSpan.FromSeconds(60);
        try
        {
            await using var first = await EngineHost.StartAsync(Config(dir.File("first"), schema), cluster: false, TestContext.Current.CancellationToken);
            await using var second = await EngineHost.StartAsync(Config(dir.File("second"), schema), cluster: false, TestContext.Current.CancellationToken);
            // The second incarnation recovers the empty partition; then the first writes its row 1.
            await Akka.Actor.Futures.Ask<PartitionStats>(second.Partitions, new GetPartitionStats(0), timeout, TestContext.Current.CancellationToken);
            var written = await Akka.Actor.Futures.Ask<PartitionReply>(first.Partitions, new PartitionBatch(0, [PartitionBatchEvents.View("a", 1)], null), timeout, TestContext.Current.CancellationToken);
            Assert.Equal(1, written.Accepted);

            var failure = await Assert.ThrowsAsync<EnvironmentFailureException>(() =>
                Akka.Actor.Futures.Ask<PartitionReply>(second.Partitions, new PartitionBatch(0, [PartitionBatchEvents.View("b", 2)], null), timeout, TestContext.Current.CancellationToken));
            Assert.Contains("another incarnation", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await using var db = new NpgsqlConnection(connection);
            await db.OpenAsync(CancellationToken.None);
            await using var drop = db.CreateCommand();
            drop.CommandText = $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE";
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static Akka.Configuration.Config Config(string dataDirectory, string schema) => EngineConfig.Load(null, $"""
        streamdetect.store.kind = postgres
        streamdetect.store.data-dir = "{dataDirectory}"
        streamdetect.store.postgres.schema = {schema}
        streamdetect.store.retry.min-backoff = 50ms
        streamdetect.store.retry.max-backoff = 200ms
        """);
}
