using Microsoft.Data.Sqlite;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Persistence;

/// <summary>The embedded SQLite store: file location, connection string, one-time file setup.</summary>
public static class SqliteStore
{
    public static string ConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>
    /// Creates the database file if needed and switches it to WAL (a setting stored in the file). A file that
    /// cannot be opened or written fails with one line naming it and the cause (exit code 3).
    /// </summary>
    public static void Prepare(string path)
    {
        try
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            using var connection = new SqliteConnection(ConnectionString(path));
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            command.ExecuteNonQuery();
        }
        catch (SqliteException e)
        {
            throw new EnvironmentFailureException(FailedResource.Store, $"SQLite store {Path.GetFullPath(path)}: cannot open: {StoreRetry.OneLine(e)}", e);
        }
    }
}
