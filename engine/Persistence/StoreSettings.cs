using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Persistence;

/// <summary>HOCON block <c>streamdetect.store</c>: where user partitions persist their events and snapshots.</summary>
public sealed record StoreSettings
{
    /// <summary>sqlite (embedded default, a file under <see cref="DataDirectory"/>), postgres, or memory (nothing survives the process; tests and benchmarks).</summary>
    public string Kind { get; init; } = "sqlite";

    /// <summary>Directory for the SQLite database and the data-directory marker.</summary>
    public string DataDirectory { get; init; } = "./data";

    /// <summary>SQLite file name inside the data directory.</summary>
    public string SqliteFile { get; init; } = "streamdetect.db";

    /// <summary>SQLite synchronous mode: normal (WAL-safe, no fsync per commit) or full.</summary>
    public string SqliteSynchronous { get; init; } = "normal";

    /// <summary>Npgsql connection string for kind = postgres.</summary>
    public string PostgresConnectionString { get; init; } = "";

    /// <summary>PostgreSQL schema holding the journal and snapshot tables (created if missing).</summary>
    public string PostgresSchema { get; init; } = "public";

    /// <summary>linq2db provider name for PostgreSQL.</summary>
    public string PostgresProvider { get; init; } = "PostgreSQL.15";

    /// <summary>
    /// Akka.Persistence.Sql journal settings of the store kind in use (<c>streamdetect.store.KIND.journal</c>),
    /// handed to <c>akka.persistence.journal.sql</c> as they are; empty for memory.
    /// </summary>
    public Config Journal { get; init; } = Config.Empty;

    /// <summary>The same for the snapshot store (<c>streamdetect.store.KIND.snapshot-store</c>).</summary>
    public Config SnapshotStore { get; init; } = Config.Empty;

    /// <summary>How long writes are retried through a store outage (<c>streamdetect.store.retry</c>).</summary>
    public StoreRetrySettings Retry { get; init; } = StoreRetrySettings.Default;

    public string SqlitePath => Path.Combine(DataDirectory, SqliteFile);

    public static StoreSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.store");
        var settings = new StoreSettings
        {
            Kind = r.OneOf("kind", "sqlite", "postgres", "memory"),
            DataDirectory = r.String("data-dir"),
            SqliteFile = r.String("sqlite.file"),
            SqliteSynchronous = r.OneOf("sqlite.synchronous", "normal", "full"),
            PostgresConnectionString = r.String("postgres.connection-string", allowEmpty: true) is { Length: > 0 } cs
                ? cs
                : Environment.GetEnvironmentVariable("STREAMDETECT_PG") ?? "",
            PostgresProvider = r.String("postgres.provider-name"),
            PostgresSchema = r.String("postgres.schema"),
            Retry = StoreRetrySettings.Create(config),
        };
        if (settings.Kind != "memory")
        {
            settings = settings with
            {
                Journal = PluginBlock(r, settings.Kind, "journal", settings.Retry),
                SnapshotStore = PluginBlock(r, settings.Kind, "snapshot-store", settings.Retry),
            };
        }
        if (settings.Kind == "postgres" && string.IsNullOrWhiteSpace(settings.PostgresConnectionString))
            throw new SettingsException(r.Key("postgres.connection-string"), "must be set when streamdetect.store.kind = postgres (e.g. Host=...;Database=...;Username=...;Password=...)");
        return settings;
    }

    private static readonly string[] Counts = ["parallelism", "buffer-size", "batch-size", "db-round-trip-max-batch-size", "replay-batch-size"];

    private static readonly string[] IsolationLevels = ["read-committed", "read-uncommitted", "repeatable-read", "serializable", "snapshot", "unspecified"];

    /// <summary>
    /// One plugin block, passed through; the keys the engine sets itself are refused, and the sizes and
    /// isolation levels are checked here so that a bad one names its key before the plugin starts.
    /// </summary>
    private static Config PluginBlock(SettingsReader store, string kind, string name, StoreRetrySettings retry)
    {
        var block = store.Nested($"{kind}.{name}");
        string managedBy = kind == "sqlite"
            ? $"{store.Key("data-dir")} and {store.Key("sqlite.file")}"
            : $"{store.Key("postgres.connection-string")}, provider-name and schema";
        foreach (string managed in new[] { "connection-string", "provider-name", "default.schema-name" })
        {
            if (block.Has(managed))
                throw new SettingsException(block.Key(managed), $"is set by the engine from {managedBy}; remove it here");
        }
        foreach (string count in Counts)
        {
            if (block.Has(count)) block.Int(count, min: 1);
        }
        foreach (string level in new[] { "read-isolation-level", "write-isolation-level" })
        {
            if (block.Has(level)) block.OneOf(level, IsolationLevels);
        }
        // The plugin's circuit breaker bounds a call with all its retries, and a recovering partition waits at most
        // recovery-event-timeout for each step: either within give-up-after would end a call the retries could still save.
        foreach (string bound in new[] { "circuit-breaker.call-timeout", "recovery-event-timeout" })
        {
            if (!block.Has(bound)) continue;
            var value = block.Duration(bound);
            if (value <= retry.GiveUpAfter)
                throw new SettingsException(block.Key(bound),
                    $"must be longer than streamdetect.store.retry.give-up-after ({retry.GiveUpAfter.TotalSeconds:0} s): it bounds a store call with all its retries");
        }
        if (block.Has("circuit-breaker.max-failures")) block.Int("circuit-breaker.max-failures", min: 1);
        if (block.Has("circuit-breaker.reset-timeout")) block.Duration("circuit-breaker.reset-timeout");
        return block.Config;
    }
}
