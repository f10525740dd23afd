namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Removes the per-user state an earlier run left in an embedded (SQLite) data directory: the database,
/// its WAL and shared-memory files and the data-directory marker. Saved models (DATA_DIR/models) stay.
/// </summary>
public static class StoreReset
{
    /// <summary>Deletes the state files; returns the bytes removed (0 when there was nothing).</summary>
    /// <exception cref="InvalidOperationException">The store is not SQLite (a shared database is never dropped by a run).</exception>
    public static long Reset(StoreSettings store)
    {
        if (store.Kind == "memory") return 0;
        if (store.Kind != "sqlite")
            throw new InvalidOperationException(
                $"streamdetect.run.fresh-state = on needs streamdetect.store.kind = sqlite (it is {store.Kind}); a shared database is never cleared by a run");
        long removed = 0;
        foreach (string path in new[] { store.SqlitePath, store.SqlitePath + "-wal", store.SqlitePath + "-shm", Path.Combine(store.DataDirectory, DataDirectoryMarker.FileName) })
        {
            var file = new FileInfo(path);
            if (!file.Exists) continue;
            removed += file.Length;
            file.Delete();
        }
        return removed;
    }
}
