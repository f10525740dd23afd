using System.Diagnostics;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Latencies in log-spaced buckets (about 4% wide, 10 µs to 10 min): constant memory, thread-safe
/// adds, percentiles accurate to a bucket.
/// </summary>
public sealed class LatencyHistogram
{
    private const double MinMs = 0.01;
    private const double Ratio = 1.04;
    private readonly long[] _buckets = new long[(int)(Math.Log(600_000 / MinMs) / Math.Log(Ratio)) + 2];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Adds the time since <paramref name="startTicks"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void AddSince(long startTicks, long nowTicks) => Add((nowTicks - startTicks) * 1000.0 / Stopwatch.Frequency);

    public void Add(double milliseconds)
    {
        int bucket = milliseconds <= MinMs ? 0 : Math.Min(_buckets.Length - 1, 1 + (int)(Math.Log(milliseconds / MinMs) / Math.Log(Ratio)));
        Interlocked.Increment(ref _buckets[bucket]);
        Interlocked.Increment(ref _count);
    }

    /// <summary>The latency (ms) below which <paramref name="quantile"/> of the samples fall (upper bucket edge).</summary>
    public double Percentile(double quantile)
    {
        long count = Count;
        if (count == 0) return 0;
        long rank = (long)Math.Ceiling(quantile * count);
        long seen = 0;
        for (int i = 0; i < _buckets.Length; i++)
        {
            seen += Interlocked.Read(ref _buckets[i]);
            if (seen >= rank) return i == 0 ? MinMs : MinMs * Math.Pow(Ratio, i);
        }
        return MinMs * Math.Pow(Ratio, _buckets.Length - 1);
    }
}
