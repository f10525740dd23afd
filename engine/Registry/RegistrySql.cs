using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using StreamDetect.Engine.Persistence;

namespace StreamDetect.Engine.Registry;

/// <summary>
/// What differs between the SQLite and the PostgreSQL registry: connections, table names (PostgreSQL's are
/// in the store's schema), the DDL, how a writer takes the registry for itself, and which failures are
/// worth a retry. Every statement with a value in it is parameterised; the schema name (an identifier,
/// which cannot be a parameter) is validated by <see cref="PostgresStore.EnsureSchema"/> before use.
/// </summary>
internal sealed class RegistrySql
{
    private readonly string _connectionString;
    private readonly string? _synchronous;

    private RegistrySql(string kind, string connectionString, string description, string setting, string versions, string lifecycle, string? synchronous)
    {
        Kind = kind;
        _connectionString = connectionString;
        Description = description;
        Setting = setting;
        Versions = versions;
        Lifecycle = lifecycle;
        _synchronous = synchronous;
    }

    public string Kind { get; }

    /// <summary>The store in an error line (the SQLite file, or PostgreSQL's host, port and database).</summary>
    public string Description { get; }

    /// <summary>The setting that says where the store is, for error lines.</summary>
    public string Setting { get; }

    public string Versions { get; }

    public string Lifecycle { get; }

    public static RegistrySql For(StoreSettings store) => store.Kind switch
    {
        "sqlite" => new RegistrySql("sqlite", SqliteStore.ConnectionString(store.SqlitePath), StoreDescription.Of(store), "streamdetect.store.data-dir",
            "model_versions", "model_lifecycle", store.SqliteSynchronous),
        "postgres" => new RegistrySql("postgres", store.PostgresConnectionString, StoreDescription.Of(store), "streamdetect.store.postgres.connection-string",
            $"\"{store.PostgresSchema}\".model_versions", $"\"{store.PostgresSchema}\".model_lifecycle", null),
        _ => throw new Configuration.UserInputException(
            $"streamdetect.store.kind = {store.Kind} keeps no model registry; use sqlite (a data directory) or postgres"),
    };

    public DbConnection Open()
    {
        if (Kind == "sqlite")
        {
            var sqlite = new SqliteConnection(_connectionString);
            sqlite.Open();
            using var pragmas = sqlite.CreateCommand();
            pragmas.CommandText = $"PRAGMA synchronous={_synchronous!.ToUpperInvariant()}; PRAGMA busy_timeout=30000;";
            pragmas.ExecuteNonQuery();
            return sqlite;
        }
        var postgres = new NpgsqlConnection(_connectionString);
        postgres.Open();
        return postgres;
    }

    /// <summary>
    /// Starts a write transaction that holds the registry against other writers until it ends: SQLite's
    /// BEGIN IMMEDIATE (the one write lock), PostgreSQL a table lock that conflicts with itself only (reads go on).
    /// </summary>
    public DbTransaction BeginWrite(DbConnection connection)
    {
        if (connection is SqliteConnection sqlite) return sqlite.BeginTransaction(deferred: false);
        var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"LOCK TABLE {Lifecycle} IN SHARE ROW EXCLUSIVE MODE";
        command.ExecuteNonQuery();
        return transaction;
    }

    /// <summary>The tables, each created when missing (so any number of runs and commands may do it, in any order).</summary>
    public IEnumerable<string> CreateTables()
    {
        bool sqlite = Kind == "sqlite";
        string blob = sqlite ? "BLOB" : "BYTEA";
        string sequence = sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
        // Two commands creating the tables at once on PostgreSQL can both pass IF NOT EXISTS: a transaction-scoped lock orders them.
        if (!sqlite) yield return "SELECT pg_advisory_xact_lock(7311001)";
        yield return $"""
            CREATE TABLE IF NOT EXISTS {Versions} (
              id TEXT PRIMARY KEY,
              name TEXT NOT NULL,
              parent_id TEXT NULL REFERENCES {Versions}(id),
              origin TEXT NOT NULL,
              origin_detail TEXT NOT NULL,
              gates TEXT NOT NULL,
              status TEXT NOT NULL,
              created TEXT NOT NULL,
              size_bytes BIGINT NOT NULL,
              model {blob} NOT NULL)
            """;
        yield return $"""
            CREATE TABLE IF NOT EXISTS {Lifecycle} (
              seq {sequence},
              version_id TEXT NOT NULL REFERENCES {Versions}(id),
              event TEXT NOT NULL,
              from_status TEXT NULL,
              to_status TEXT NOT NULL,
              reason TEXT NOT NULL,
              previous_champion TEXT NULL,
              at TEXT NOT NULL)
            """;
        yield return $"CREATE INDEX IF NOT EXISTS model_lifecycle_by_version ON {Lifecycle} (version_id, seq)";
    }

    /// <summary>A parameterised statement on <paramref name="connection"/> (in <paramref name="transaction"/> when given); a null value binds SQL NULL.</summary>
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string text, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>
    /// A failure that waiting may cure: PostgreSQL unreachable or restarting (Npgsql's own judgement), SQLite
    /// busy or locked past its busy timeout, a socket the connection lost (Npgsql lets an <see cref="IOException"/>
    /// through when the connection is cut while it opens). Anything else (a wrong password, a corrupt file) fails at once.
    /// </summary>
    public static bool IsTransient(Exception e) => e switch
    {
        NpgsqlException npgsql => npgsql.IsTransient,
        SqliteException sqlite => sqlite.SqliteErrorCode is 5 or 6, // SQLITE_BUSY, SQLITE_LOCKED
        TimeoutException or IOException or System.Net.Sockets.SocketException => true,
        _ => false,
    };

    /// <summary>After a failure: the next attempt opens fresh connections (see <see cref="StoreConnectionPool"/>).</summary>
    public void ClearPool() => StoreConnectionPool.Clear(Kind == "sqlite" ? "SQLite" : "PostgreSQL", _connectionString);
}
