using System.Collections.Concurrent;

namespace StreamDetect.Stages.Sources;

/// <summary>Counters a reader updates as it goes, for progress output; safe to read from another thread.</summary>
public sealed class ReadProgress
{
    private long _bytesRead;
    private long _records;

    /// <summary>Size of the input when known (a file), else 0.</summary>
    public long TotalBytes { get; set; }

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public long Records => Interlocked.Read(ref _records);

    /// <summary>Fraction read, 0..1, or null when the size is unknown.</summary>
    public double? Fraction => TotalBytes > 0 ? Math.Min(1.0, (double)BytesRead / TotalBytes) : null;

    public void AddBytes(long count) => Interlocked.Add(ref _bytesRead, count);

    public void AddRecord() => Interlocked.Increment(ref _records);

    private readonly ConcurrentDictionary<string, long> _deadLetters = new(StringComparer.Ordinal);

    /// <summary>Records rejected so far, per reason code (for live metrics; the run's summary counts them in its dead-letter sink).</summary>
    public IEnumerable<KeyValuePair<string, long>> DeadLettersByReason => _deadLetters;

    public void AddDeadLetter(string reason) => _deadLetters.AddOrUpdate(reason, 1, static (_, n) => n + 1);
}
