namespace StreamDetect.Engine.Configuration;

/// <summary>
/// Checks, before a run does any work, that its data directory can be written: created if missing, a
/// file can be created in it, and those of the run's files that are there already (the SQLite store and
/// its journal files, the marker) can be opened for writing. A read-only directory or store file is then one line naming
/// the directory, instead of an <c>UnauthorizedAccessException</c> or SQLite error 8 once the engine starts.
/// </summary>
public static class WritableDataDirectory
{
    private const string Setting = "--data-dir, streamdetect.store.data-dir";

    /// <summary>Throws <see cref="UserInputException"/> naming the directory or file and the cause.</summary>
    /// <param name="directory">The data directory.</param>
    /// <param name="files">Names of the files in it that the run writes, checked where they exist.</param>
    public static void Ensure(string directory, IEnumerable<string> files)
    {
        string probe = Path.Combine(directory, $".streamdetect-write-check-{Environment.ProcessId}");
        try
        {
            if (File.Exists(directory)) throw new UserInputException($"data directory '{directory}' ({Setting}) is a file, not a directory");
            Directory.CreateDirectory(directory);
            using (new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"data directory '{directory}' ({Setting}) is not writable: {e.Message}", e);
        }
        foreach (string file in files.Select(f => Path.Combine(directory, f)).Where(File.Exists))
        {
            try
            {
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1))
                {
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserInputException($"data directory '{directory}' ({Setting}): '{Path.GetFileName(file)}' is not writable: {e.Message}", e);
            }
        }
    }
}
