using Microsoft.Data.Sqlite;
using Npgsql;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Empties the connection pool of a store after a failed call, so that the retry opens fresh connections.
/// Needed for SQLite: a connection opened while the file could not be written is opened read-only and
/// stays so, failing every write long after the file is writable again. (Npgsql drops broken connections
/// itself; emptying its pool only spares the retry the ones the outage broke.)
/// </summary>
public static class StoreConnectionPool
{
    public static void Clear(string provider, string connectionString)
    {
        if (string.IsNullOrEmpty(connectionString)) return;
        if (provider.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase))
        {
            using var connection = new SqliteConnection(connectionString);
            SqliteConnection.ClearPool(connection);
        }
        else if (provider.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase))
        {
            using var connection = new NpgsqlConnection(connectionString);
            NpgsqlConnection.ClearPool(connection);
        }
    }
}
