using Microsoft.Data.Sqlite;
using Npgsql;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Names a store in an error line: the SQLite file's full path, or PostgreSQL's host, port and database
/// (never the user name nor the password of the connection string).
/// </summary>
public static class StoreDescription
{
    public static string Of(StoreSettings store) => store.Kind switch
    {
        "sqlite" => Sqlite(Path.GetFullPath(store.SqlitePath)),
        "postgres" => Postgres(store.PostgresConnectionString),
        _ => "the in-memory store",
    };

    /// <summary>From a persistence plugin's provider name and connection string.</summary>
    public static string Of(string provider, string connectionString)
    {
        if (provider.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase))
        {
            string source = new SqliteConnectionStringBuilder(connectionString).DataSource;
            return Sqlite(string.IsNullOrEmpty(source) ? "(unnamed)" : Path.GetFullPath(source));
        }
        if (provider.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase)) return Postgres(connectionString);
        return $"store ({provider})";
    }

    private static string Sqlite(string path) => $"SQLite store {path}";

    private static string Postgres(string connectionString)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            return $"PostgreSQL store {b.Host}:{b.Port}/{b.Database}";
        }
        catch (ArgumentException)
        {
            return "PostgreSQL store (connection string not readable)";
        }
    }
}
