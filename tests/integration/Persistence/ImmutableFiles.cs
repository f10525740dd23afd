using System.Diagnostics;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// Makes the SQLite database of a data directory and its write-ahead log immutable with chattr +i while it
/// is held: no write reaches them, even through a descriptor already open, even as root (where a chmod
/// changes nothing). The shared-memory file (-shm) is left alone: SQLite maps it into memory, and a mapped
/// file that cannot be written kills the process with SIGBUS, which no real read-only file or full disk does.
/// Skips the test where chattr is not allowed (it needs CAP_LINUX_IMMUTABLE).
/// </summary>
public sealed class ImmutableFiles : IDisposable
{
    private readonly List<string> _files;

    private ImmutableFiles(List<string> files)
    {
        _files = files;
    }

    public static ImmutableFiles Set(string dataDirectory)
    {
        var files = new[] { "streamdetect.db", "streamdetect.db-wal" }.Select(f => Path.Combine(dataDirectory, f)).Where(File.Exists).ToList();
        Assert.NotEmpty(files);
        var held = new ImmutableFiles([]);
        foreach (string file in files)
        {
            var (code, error) = Chattr("+i", file);
            if (code != 0)
            {
                held.Dispose();
                Assert.Skip($"chattr +i is not allowed here ({error.Trim()}); it needs root or CAP_LINUX_IMMUTABLE");
            }
            held._files.Add(file);
        }
        return held;
    }

    public void Dispose()
    {
        foreach (string file in _files) Chattr("-i", file);
        _files.Clear();
    }

    private static (int Code, string Error) Chattr(string flag, string file)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("chattr", [flag, file]) { RedirectStandardError = true })!;
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
