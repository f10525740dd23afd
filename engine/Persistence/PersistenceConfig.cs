using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using LinqToDB;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Turns <see cref="StoreSettings"/> into Akka.Persistence configuration: the journal and snapshot
/// plugins (Akka.Persistence.Sql over SQLite or PostgreSQL, or the in-memory ones) with the settings
/// without which SQLite crawls (shared/notes/persistence-sqlite.md), and a linq2db setup that adds
/// the SQLite pragmas on every connection.
/// </summary>
public static class PersistenceConfig
{
    public static (Config Config, Setup? Setup) Build(StoreSettings store)
    {
        switch (store.Kind)
        {
            case "memory":
                return (ConfigurationFactory.ParseString("""
                    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
                    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
                    """), null);
            case "sqlite":
            {
                SqliteStore.Prepare(store.SqlitePath);
                string cs = SqliteStore.ConnectionString(store.SqlitePath);
                var options = new DataOptions()
                    .UseConnectionString(ProviderName.SQLiteMS, cs)
                    .UseInterceptor(new SqlitePragmaInterceptor(store.SqliteSynchronous));
                return (Sql(cs, ProviderName.SQLiteMS, parallelism: 1, isolation: "read-uncommitted"), new DataOptionsSetup(options));
            }
            case "postgres":
                PostgresStore.EnsureSchema(store.PostgresConnectionString, store.PostgresSchema);
                return (Sql(store.PostgresConnectionString, store.PostgresProvider, parallelism: 4, isolation: "read-committed", schema: store.PostgresSchema), null);
            default:
                throw new ArgumentException($"unknown store kind '{store.Kind}'");
        }
    }

    private static Config Sql(string connectionString, string provider, int parallelism, string isolation, string? schema = null)
    {
        string cs = connectionString.Replace("\\", "\\\\").Replace("\"", "\\\"");
        string schemaSetting = schema is null ? "" : $"default.schema-name = \"{schema}\"";
        var config = ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = "{{cs}}"
                  provider-name = "{{provider}}"
                  auto-initialize = on
                  warn-on-auto-init-fail = off
                  parallelism = {{parallelism}}
                  buffer-size = 20000
                  batch-size = 200
                  db-round-trip-max-batch-size = 1000
                  prefer-parameters-on-multirow-insert = true
                  read-isolation-level = {{isolation}}
                  write-isolation-level = unspecified
                  tag-write-mode = Csv
                  {{schemaSetting}}
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = "{{cs}}"
                  provider-name = "{{provider}}"
                  auto-initialize = on
                  warn-on-auto-init-fail = off
                  read-isolation-level = {{isolation}}
                  write-isolation-level = unspecified
                  {{schemaSetting}}
                }
              }
            }
            """);
        return config.WithFallback(SqlPersistence.DefaultConfiguration);
    }
}
