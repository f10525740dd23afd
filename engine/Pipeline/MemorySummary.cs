using System.Runtime;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// The process's memory after the stream (`run --measure-memory`, <c>memory</c> in --summary-json): measured
/// after a full, compacting, aggressive garbage collection (which also hands freed heap back to the OS), once the
/// stream is done and before the partitions' final flush, while they hold every user's state.
/// </summary>
public sealed class MemorySummary
{
    /// <summary>Resident bytes of the process (VmRSS): managed heap, runtime, native libraries, SQLite's cache, stacks.</summary>
    public long RssBytes { get; set; }

    /// <summary>The highest resident bytes of the process during the run (VmHWM).</summary>
    public long PeakRssBytes { get; set; }

    /// <summary>Bytes of live objects on the managed heap after the collection.</summary>
    public long ManagedHeapBytes { get; set; }

    /// <summary>Bytes the garbage collector holds committed after the collection (heap plus its free space).</summary>
    public long GcCommittedBytes { get; set; }

    /// <summary>Users in the partitions' state when measured.</summary>
    public long UsersInState { get; set; }

    /// <summary><see cref="RssBytes"/> per user in state: an upper bound of the bytes per user, the runtime's fixed cost included.
    /// Subtract the figure of a run with few users for the marginal cost.</summary>
    public double RssBytesPerUser { get; set; }

    /// <summary><see cref="ManagedHeapBytes"/> per user in state.</summary>
    public double ManagedHeapBytesPerUser { get; set; }

    /// <summary>This measurement with <paramref name="users"/> users in state and the figures per user.</summary>
    public MemorySummary PerUser(long users)
    {
        UsersInState = users;
        RssBytesPerUser = users == 0 ? 0 : Math.Round((double)RssBytes / users, 1);
        ManagedHeapBytesPerUser = users == 0 ? 0 : Math.Round((double)ManagedHeapBytes / users, 1);
        return this;
    }

    /// <summary>Collects, then measures (the users are set by <see cref="PerUser"/>).</summary>
    public static MemorySummary Measure()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        long heap = GC.GetTotalMemory(forceFullCollection: false);
        var (rss, peak) = ProcessStatus();
        return new MemorySummary
        {
            RssBytes = rss,
            PeakRssBytes = peak,
            ManagedHeapBytes = heap,
            GcCommittedBytes = info.TotalCommittedBytes,
        };
    }

    /// <summary>VmRSS and VmHWM from /proc/self/status (Linux); elsewhere the working set and its peak.</summary>
    private static (long Rss, long Peak) ProcessStatus()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            long rss = 0, peak = 0;
            foreach (string line in File.ReadLines(status))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line) * 1024;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line) * 1024;
            }
            return (rss, peak);
        }
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return (process.WorkingSet64, process.PeakWorkingSet64);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
