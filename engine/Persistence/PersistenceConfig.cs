using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using LinqToDB;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Turns <see cref="StoreSettings"/> into the configuration the actor system starts with: the journal
/// and snapshot plugins (Akka.Persistence.Sql over SQLite or PostgreSQL, or the in-memory ones), and a
/// linq2db setup that adds the SQLite pragmas on every connection. The plugins' tuning comes from the
/// configuration (<c>streamdetect.store.KIND.journal</c> and <c>.snapshot-store</c>, documented in
/// hocon/streamdetect.conf), so an overlay changes it like any other setting.
/// </summary>
public static class PersistenceConfig
{
    /// <summary>Prepares the store (the SQLite file in WAL mode, the PostgreSQL schema) and builds the configuration.</summary>
    /// <param name="config">The engine's configuration (defaults, overlays and overrides).</param>
    public static (Config Config, Setup? Setup) Build(StoreSettings store, Config config)
    {
        Setup? setup = null;
        switch (store.Kind)
        {
            case "sqlite":
                SqliteStore.Prepare(store.SqlitePath);
                setup = new DataOptionsSetup(new DataOptions()
                    .UseConnectionString(ProviderName.SQLiteMS, SqliteStore.ConnectionString(store.SqlitePath))
                    .UseInterceptor(new SqlitePragmaInterceptor(store.SqliteSynchronous)));
                break;
            case "postgres":
                PostgresStore.EnsureSchema(store.PostgresConnectionString, store.PostgresSchema, store.Retry);
                break;
        }
        return (Effective(store, config), setup);
    }

    /// <summary>
    /// The configuration the actor system starts with, touching no file or server. From the first that
    /// has a key: where the store is (connection string, provider, schema, from <paramref name="store"/>);
    /// <paramref name="config"/> itself, so a key set directly under akka.persistence.journal.sql wins;
    /// the store kind's journal and snapshot-store blocks; Akka.Persistence.Sql's own defaults.
    /// </summary>
    public static Config Effective(StoreSettings store, Config config) => store.Kind switch
    {
        "memory" => ConfigurationFactory.ParseString("""
            akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
            """).WithFallback(config),
        "sqlite" => Sql(store, config, SqliteStore.ConnectionString(store.SqlitePath), ProviderName.SQLiteMS, schema: null),
        "postgres" => Sql(store, config, store.PostgresConnectionString, store.PostgresProvider, store.PostgresSchema),
        _ => throw new ArgumentException($"unknown store kind '{store.Kind}'"),
    };

    private static Config Sql(StoreSettings store, Config config, string connectionString, string provider, string? schema)
    {
        string cs = Quote(connectionString);
        string schemaSetting = schema is null ? "" : $"default.schema-name = {Quote(schema)}";
        string retry = store.Retry.ToPluginHocon();
        // The plugins are Akka.Persistence.Sql's, with writes retried through a store outage (RetryingSqlJournal).
        var location = ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  class = "{{TypeName<RetryingSqlJournal>()}}"
                  {{retry}}
                  connection-string = {{cs}}
                  provider-name = {{Quote(provider)}}
                  {{schemaSetting}}
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  class = "{{TypeName<RetryingSqlSnapshotStore>()}}"
                  {{retry}}
                  connection-string = {{cs}}
                  provider-name = {{Quote(provider)}}
                  {{schemaSetting}}
                }
              }
            }
            """);
        return location
            .WithFallback(config)
            .WithFallback(At(store.Journal, "akka", "persistence", "journal", "sql"))
            .WithFallback(At(store.SnapshotStore, "akka", "persistence", "snapshot-store", "sql"))
            // without the plugin's defaults, startup fails with "Plugin class name must be defined"
            .WithFallback(SqlPersistence.DefaultConfiguration);
    }

    /// <summary>The block placed at the path given by <paramref name="keys"/>.</summary>
    private static Config At(Config block, params string[] keys)
    {
        if (block.IsEmpty) return Config.Empty;
        Config placed = block;
        for (int i = keys.Length - 1; i >= 0; i--) placed = placed.Root.AtKey(keys[i]);
        return placed;
    }

    private static string TypeName<T>() => $"{typeof(T).FullName}, {typeof(T).Assembly.GetName().Name}";

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
