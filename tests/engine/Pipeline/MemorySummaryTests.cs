using StreamDetect.Engine.Pipeline;

namespace StreamDetect.Engine.Tests.Pipeline;

/// <summary>`run --measure-memory`: the process's memory after a full collection, and per user.</summary>
public sealed class MemorySummaryTests
{
    [Fact]
    public void A_measurement_sees_live_objects_on_the_heap_and_divides_by_the_users()
    {
        var before = MemorySummary.Measure();
        var held = new byte[64][];
        for (int i = 0; i < held.Length; i++)
        {
            // Written, not only allocated: a fresh large array is zero pages the kernel has not made resident yet,
            // so an untouched one counts on the heap and not in VmRSS (this failed once in CI).
            held[i] = new byte[1 << 20];
            Array.Fill(held[i], (byte)(i + 1));
        }
        var after = MemorySummary.Measure().PerUser(1000);
        GC.KeepAlive(held);

        Assert.True(after.ManagedHeapBytes - before.ManagedHeapBytes >= 60L << 20,
            $"64 MiB held, the heap grew by {(after.ManagedHeapBytes - before.ManagedHeapBytes) >> 20} MiB");
        // Resident covers at least the 64 MiB written (not the whole heap: other tests' untouched arrays count there only).
        Assert.True(after.RssBytes >= 64L << 20, $"resident {after.RssBytes} below the 64 MiB written");
        Assert.True(after.PeakRssBytes >= after.RssBytes);
        Assert.Equal(1000, after.UsersInState);
        Assert.Equal(Math.Round(after.RssBytes / 1000.0, 1), after.RssBytesPerUser);
        Assert.Equal(Math.Round(after.ManagedHeapBytes / 1000.0, 1), after.ManagedHeapBytesPerUser);
    }
}
