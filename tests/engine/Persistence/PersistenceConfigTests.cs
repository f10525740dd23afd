using System.Data;
using Akka.Configuration;
using Akka.Persistence.Sql.Config;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Tests.Support;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Tests.Persistence;

/// <summary>
/// The Akka.Persistence.Sql tuning comes from hocon/streamdetect.conf (streamdetect.store.KIND.journal
/// and .snapshot-store), so an overlay changes what the engine starts with.
/// </summary>
public sealed class PersistenceConfigTests : IDisposable
{
    private readonly TestEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    private Config Load(string? overlay = null, string? overrides = null)
    {
        string? file = null;
        if (overlay is not null)
        {
            file = Path.Combine(_engine.DataDirectory, "overlay.conf");
            File.WriteAllText(file, overlay);
        }
        return EngineConfig.Load(file is null ? null : [file],
            $"streamdetect.store.data-dir = \"{_engine.DataDirectory.Replace("\\", "\\\\")}\"\n{overrides}");
    }

    private static Config Effective(Config config) => PersistenceConfig.Effective(StoreSettings.Create(config), config);

    [Fact]
    public void Without_an_overlay_SQLite_gets_the_documented_tuning()
    {
        var effective = Effective(Load());

        var journal = effective.GetConfig("akka.persistence.journal.sql");
        Assert.Equal("akka.persistence.journal.sql", effective.GetString("akka.persistence.journal.plugin"));
        Assert.Equal(1, journal.GetInt("parallelism"));
        Assert.Equal(20000, journal.GetInt("buffer-size"));
        Assert.Equal(200, journal.GetInt("batch-size"));
        Assert.Equal(1000, journal.GetInt("db-round-trip-max-batch-size"));
        Assert.True(journal.GetBoolean("prefer-parameters-on-multirow-insert"));
        Assert.Equal("read-uncommitted", journal.GetString("read-isolation-level"));
        Assert.Equal("unspecified", journal.GetString("write-isolation-level"));
        Assert.Equal("Csv", journal.GetString("tag-write-mode"));
        Assert.True(journal.GetBoolean("auto-initialize"));
        Assert.False(journal.GetBoolean("warn-on-auto-init-fail"));
        Assert.Equal("SQLite.MS", journal.GetString("provider-name"));
        Assert.Contains(_engine.DataDirectory, journal.GetString("connection-string"), StringComparison.Ordinal);

        var snapshots = effective.GetConfig("akka.persistence.snapshot-store.sql");
        Assert.Equal("akka.persistence.snapshot-store.sql", effective.GetString("akka.persistence.snapshot-store.plugin"));
        Assert.Equal("read-uncommitted", snapshots.GetString("read-isolation-level"));
        Assert.Equal("unspecified", snapshots.GetString("write-isolation-level"));
        Assert.True(snapshots.GetBoolean("auto-initialize"));
        Assert.Equal(journal.GetString("connection-string"), snapshots.GetString("connection-string"));

        // the plugins are Akka.Persistence.Sql's with retried writes; the plugin's own defaults fill what is not set
        Assert.StartsWith(typeof(RetryingSqlJournal).FullName!, journal.GetString("class"), StringComparison.Ordinal);
        Assert.StartsWith(typeof(RetryingSqlSnapshotStore).FullName!, snapshots.GetString("class"), StringComparison.Ordinal);
        Assert.Equal(1000, journal.GetInt("replay-batch-size"));
    }

    [Fact]
    public void Without_an_overlay_PostgreSQL_gets_its_own_parallelism_and_isolation()
    {
        var effective = Effective(Load(overrides: """
            streamdetect.store.kind = postgres
            streamdetect.store.postgres { connection-string = "Host=db;Database=x", schema = tenant_a }
            """));

        var journal = effective.GetConfig("akka.persistence.journal.sql");
        Assert.Equal(4, journal.GetInt("parallelism"));
        Assert.Equal("read-committed", journal.GetString("read-isolation-level"));
        Assert.Equal(200, journal.GetInt("batch-size"));
        Assert.Equal("Host=db;Database=x", journal.GetString("connection-string"));
        Assert.Equal("PostgreSQL.15", journal.GetString("provider-name"));
        Assert.Equal("tenant_a", journal.GetString("default.schema-name"));
        Assert.Equal("read-committed", effective.GetString("akka.persistence.snapshot-store.sql.read-isolation-level"));
        Assert.Equal("tenant_a", effective.GetString("akka.persistence.snapshot-store.sql.default.schema-name"));
    }

    [Fact]
    public async Task An_overlay_file_changes_the_journal_tuning_the_engine_starts_with()
    {
        var config = Load("""
            streamdetect.store.sqlite.journal {
              batch-size = 500
              parallelism = 2
            }
            streamdetect.store.sqlite.snapshot-store.read-isolation-level = read-committed
            """);

        await using var host = await EngineHost.StartAsync(config, cluster: false, TestContext.Current.CancellationToken);

        var started = host.System.Settings.Config;
        Assert.Equal(500, started.GetInt("akka.persistence.journal.sql.batch-size"));
        Assert.Equal(2, started.GetInt("akka.persistence.journal.sql.parallelism"));
        Assert.Equal("read-committed", started.GetString("akka.persistence.snapshot-store.sql.read-isolation-level"));
        // the keys the overlay leaves alone keep their documented values
        Assert.Equal(20000, started.GetInt("akka.persistence.journal.sql.buffer-size"));
        Assert.Equal("read-uncommitted", started.GetString("akka.persistence.journal.sql.read-isolation-level"));

        // ...and the plugin reads them so
        var plugin = new JournalConfig(started.GetConfig("akka.persistence.journal.sql"));
        Assert.Equal(500, plugin.DaoConfig.BatchSize);
        Assert.Equal(2, plugin.DaoConfig.Parallelism);
        Assert.Equal(20000, plugin.DaoConfig.BufferSize);
        Assert.Equal(IsolationLevel.ReadUncommitted, plugin.ReadIsolationLevel);
    }

    [Fact]
    public void A_key_set_directly_on_the_plugin_block_wins_too()
    {
        var effective = Effective(Load("akka.persistence.journal.sql.batch-size = 300\n"));
        Assert.Equal(300, effective.GetInt("akka.persistence.journal.sql.batch-size"));
        Assert.Equal(1, effective.GetInt("akka.persistence.journal.sql.parallelism"));
    }

    [Fact]
    public void The_store_location_cannot_be_overridden_in_the_plugin_blocks()
    {
        // the connection string of an overlay's plugin block is never used: the engine's wins
        var effective = Effective(Load("akka.persistence.journal.sql.connection-string = \"Data Source=elsewhere.db\"\n"));
        Assert.Contains(_engine.DataDirectory, effective.GetString("akka.persistence.journal.sql.connection-string"), StringComparison.Ordinal);

        var error = Assert.Throws<SettingsException>(() => StoreSettings.Create(Load("streamdetect.store.sqlite.journal.connection-string = \"Data Source=x.db\"\n")));
        Assert.Equal("streamdetect.store.sqlite.journal.connection-string", error.Key);
        Assert.Contains("streamdetect.store.data-dir", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("streamdetect.store.sqlite.journal.parallelism = 0", "streamdetect.store.sqlite.journal.parallelism", "outside")]
    [InlineData("streamdetect.store.sqlite.journal.batch-size = lots", "streamdetect.store.sqlite.journal.batch-size", "not an integer")]
    [InlineData("streamdetect.store.sqlite.snapshot-store.read-isolation-level = dirty", "streamdetect.store.sqlite.snapshot-store.read-isolation-level", "not one of")]
    public void A_bad_tuning_value_names_its_key(string overlay, string key, string problem)
    {
        var error = Assert.Throws<SettingsException>(() => StoreSettings.Create(Load(overlay + "\n")));
        Assert.Equal(key, error.Key);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }
}
