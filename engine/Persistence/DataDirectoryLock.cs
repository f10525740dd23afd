using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;
using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// `DATA_DIR/streamdetect.lock`: one run at a time on a data directory. The file is held open with
/// <see cref="FileShare.None"/> for the whole run, which .NET turns into an exclusive OS lock (flock on
/// Linux and macOS, a sharing lock on Windows), so the kernel releases it when the process ends however it
/// ends: a run killed with SIGKILL leaves the file but never a lock. The file holds the holder's pid, host
/// and start time, for the refusal message; a file still holding them when the lock is taken was left by a
/// run that died, and the takeover is logged. Within one process the lock is shared (counted), so the
/// engine's own parts (a run and the engine host it starts, two nodes of an in-process test cluster) do
/// not refuse each other.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = "streamdetect.lock";

    private static readonly Dictionary<string, HeldLock> HeldByThisProcess = new(StringComparer.Ordinal);

    private readonly string _directory;
    private bool _released;

    private DataDirectoryLock(string directory) => _directory = directory;

    /// <summary>
    /// Takes the lock of <paramref name="dataDirectory"/> (created when missing). Throws
    /// <see cref="EnvironmentFailureException"/> (<see cref="FailedResource.DataDirectoryLocked"/>) naming the
    /// holder when another process holds it, and <see cref="UserInputException"/> when the directory or the
    /// lock file cannot be created. A stale lock file is taken over and the takeover written to <paramref name="log"/>.
    /// </summary>
    public static DataDirectoryLock Acquire(string dataDirectory, TextWriter log)
    {
        string directory = Path.GetFullPath(dataDirectory);
        lock (HeldByThisProcess)
        {
            if (HeldByThisProcess.TryGetValue(directory, out var held))
            {
                held.Count++;
                return new DataDirectoryLock(directory);
            }
            var stream = Open(dataDirectory, directory);
            string previous = ReadAll(stream);
            if (previous.Trim().Length > 0)
                log.WriteLine($"data directory '{dataDirectory}': taking over the lock of a run that ended without releasing it ({Describe(previous)})");
            WriteHolder(stream);
            HeldByThisProcess[directory] = new HeldLock(stream);
            return new DataDirectoryLock(directory);
        }
    }

    /// <summary>The holder recorded in <paramref name="dataDirectory"/>'s lock file ("pid 12 on host h since ..."), or null when none is recorded.</summary>
    public static string? RecordedHolder(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        string text = ReadWhileLocked(path);
        return text.Trim().Length == 0 ? null : Describe(text);
    }

    /// <summary>Releases the lock (the last holder in this process closes the file, emptied: a clean release leaves no holder behind).</summary>
    public void Dispose()
    {
        lock (HeldByThisProcess)
        {
            if (_released) return;
            _released = true;
            if (!HeldByThisProcess.TryGetValue(_directory, out var held) || --held.Count > 0) return;
            HeldByThisProcess.Remove(_directory);
            try
            {
                held.Stream.SetLength(0);
                held.Stream.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                // the lock goes with the handle anyway; the next run only logs a takeover
            }
            held.Stream.Dispose();
        }
    }

    private static FileStream Open(string given, string directory)
    {
        string path = Path.Combine(directory, FileName);
        try
        {
            Directory.CreateDirectory(directory);
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            string holder;
            try
            {
                holder = RecordedHolder(directory) ?? "holder not recorded yet";
            }
            catch (Exception readError) when (readError is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
            {
                holder = "holder unknown";
            }
            throw new EnvironmentFailureException(FailedResource.DataDirectoryLocked,
                $"data directory '{given}' is in use by another run ({holder}); wait for it to end, or use another --data-dir", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"data directory '{given}': cannot create the lock file {FileName}: {e.Message}", e);
        }
    }

    /// <summary>Another process holds the file: EWOULDBLOCK from flock on Unix, a sharing or lock violation on Windows.</summary>
    private static bool IsHeldElsewhere(IOException e) =>
        OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33 : e.HResult == 11 || e.HResult == 35;

    private static string ReadAll(FileStream stream)
    {
        stream.Position = 0;
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        return reader.ReadToEnd();
    }

    private static void WriteHolder(FileStream stream)
    {
        var holder = new JsonObject
        {
            ["pid"] = Environment.ProcessId,
            ["host"] = Environment.MachineName,
            ["since"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        stream.SetLength(0);
        stream.Position = 0;
        stream.Write(Encoding.UTF8.GetBytes(holder.ToJsonString() + "\n"));
        stream.Flush(flushToDisk: true);
    }

    private static string Describe(string recorded)
    {
        try
        {
            var holder = JsonNode.Parse(recorded);
            return $"pid {holder?["pid"]} on host {holder?["host"]} since {holder?["since"]}";
        }
        catch (JsonException)
        {
            return $"lock file reads '{recorded.Trim()}'";
        }
    }

    /// <summary>
    /// Reads the lock file while another process holds it. .NET's own readers ask for a shared flock on
    /// Unix, which the holder's exclusive one refuses; a descriptor from open(2) takes no lock. On Windows
    /// the holder's sharing mode forbids reading at all (an IOException, reported as holder unknown).
    /// </summary>
    private static string ReadWhileLocked(string path)
    {
        if (OperatingSystem.IsWindows()) return File.ReadAllText(path);
        int fd = NativeOpen(path, 0); // O_RDONLY
        if (fd < 0) throw new IOException($"cannot open {path} (errno {Marshal.GetLastPInvokeError()})");
        using var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int NativeOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    private sealed class HeldLock(FileStream stream)
    {
        public FileStream Stream { get; } = stream;

        public int Count { get; set; } = 1;
    }
}
