namespace StreamDetect.Engine.Configuration;

/// <summary>
/// Checks, before a command does any work, that an output file it was given (alerts, dead letters, a
/// summary, a feature dump, a result JSON) can be written there: its directory is created if missing and
/// must take a new file. A file or named pipe that exists already is left alone (opening a pipe would
/// wait for its reader); the command opens it when it starts writing.
/// </summary>
public static class WritableOutputFile
{
    /// <summary>Throws <see cref="UserInputException"/> naming the option and the path.</summary>
    /// <param name="option">The option (or setting) that named the file, for the error line.</param>
    /// <param name="path">The file; null or "-" (stdout) is not checked.</param>
    public static void Ensure(string option, string? path)
    {
        if (path is null or "-") return;
        if (Directory.Exists(path)) throw new UserInputException($"{option} '{path}' is a directory, not a file");
        if (File.Exists(path)) return;
        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        try
        {
            Directory.CreateDirectory(directory);
            using (new FileStream(Path.Combine(directory, $".streamdetect-write-check-{Environment.ProcessId}"), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{option} '{path}' cannot be written: {e.Message}", e);
        }
    }

    /// <summary>
    /// A write that failed while the command ran (a full disk, a device), named with the option that gave the file, so
    /// that the run's catch-all for I/O errors does not blame its input: the I/O failure (the exception itself or the
    /// one it wraps) as a <see cref="UserInputException"/>; null when <paramref name="failure"/> is no I/O failure.
    /// </summary>
    public static UserInputException? WriteFailed(string option, string path, Exception failure)
    {
        var cause = failure is IOException or UnauthorizedAccessException ? failure
            : failure.InnerException is IOException or UnauthorizedAccessException ? failure.InnerException : null;
        return cause is null ? null : Named(option, path, cause);
    }

    /// <summary>A write of the file that failed for <paramref name="cause"/>, as one line naming the option and the path.</summary>
    public static UserInputException Named(string option, string path, Exception cause) =>
        new($"{option} '{path}': cannot write: {cause.Message}", cause);
}
