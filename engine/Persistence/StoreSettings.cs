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
        };
        if (settings.Kind == "postgres" && string.IsNullOrWhiteSpace(settings.PostgresConnectionString))
            throw new SettingsException(r.Key("postgres.connection-string"), "must be set when streamdetect.store.kind = postgres (e.g. Host=...;Database=...;Username=...;Password=...)");
        return settings;
    }
}
