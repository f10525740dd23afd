using Microsoft.Data.Sqlite;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Removes the per-user state an earlier run left in an embedded (SQLite) data directory: the database,
/// its WAL and shared-memory files and the data-directory marker. Saved models (DATA_DIR/models) stay, and
/// so does the model registry: a database holding one keeps its registry tables and loses all the others.
/// </summary>
public static class StoreReset
{
    /// <summary>The registry's tables (engine/Registry), kept by a reset.</summary>
    private static readonly string[] RegistryTables = ["model_versions", "model_lifecycle"];

    /// <summary>Deletes the state files; returns the bytes removed (0 when there was nothing).</summary>
    /// <exception cref="InvalidOperationException">The store is not SQLite (a shared database is never dropped by a run).</exception>
    public static long Reset(StoreSettings store)
    {
        if (store.Kind == "memory") return 0;
        if (store.Kind != "sqlite")
            throw new InvalidOperationException(
                $"streamdetect.run.fresh-state = on needs streamdetect.store.kind = sqlite (it is {store.Kind}); a shared database is never cleared by a run");
        string[] paths = [store.SqlitePath, store.SqlitePath + "-wal", store.SqlitePath + "-shm", Path.Combine(store.DataDirectory, DataDirectoryMarker.FileName)];
        long before = paths.Sum(p => new FileInfo(p) is { Exists: true } f ? f.Length : 0);
        bool registryKept = File.Exists(store.SqlitePath) && KeepOnlyRegistry(store.SqlitePath);
        foreach (string path in registryKept ? paths[1..] : paths)
        {
            if (File.Exists(path)) File.Delete(path);
        }
        long after = paths.Sum(p => new FileInfo(p) is { Exists: true } f ? f.Length : 0);
        return before - after;
    }

    /// <summary>
    /// When the database holds a model registry: drops every other table and compacts the file (the WAL
    /// checkpointed into it), and returns true. False when there is no registry or the file is no database.
    /// </summary>
    private static bool KeepOnlyRegistry(string path)
    {
        string connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString();
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            var tables = new List<string>();
            using (var list = connection.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
                using var reader = list.ExecuteReader();
                while (reader.Read()) tables.Add(reader.GetString(0));
            }
            if (!RegistryTables.All(tables.Contains)) return false;
            using (var drop = connection.CreateCommand())
            {
                // Names read from sqlite_master (not user input); an identifier cannot be a parameter.
                drop.CommandText = string.Concat(tables.Except(RegistryTables).Select(t => $"DROP TABLE \"{t.Replace("\"", "\"\"")}\";"))
                    + "VACUUM; PRAGMA wal_checkpoint(TRUNCATE);";
                drop.ExecuteNonQuery();
            }
            return true;
        }
        catch (SqliteException)
        {
            return false; // not a database this build can read: deleted as before
        }
    }
}
