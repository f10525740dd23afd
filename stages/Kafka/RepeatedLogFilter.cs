using System.Text;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Condenses repeated client log lines: a broker that is down makes librdkafka report the same failure
/// for every broker, every reconnect attempt (thousands of lines a minute). Messages that differ only in
/// numbers (ports, broker ids, milliseconds) count as one; each is let through once per interval, and the
/// next one after the interval says how many were held back. Thread-safe (librdkafka logs from its own threads).
/// </summary>
internal sealed class RepeatedLogFilter
{
    private readonly TimeSpan _interval;
    private readonly object _gate = new();
    private readonly Dictionary<string, (TimeSpan Logged, long Suppressed)> _seen = new(StringComparer.Ordinal);

    /// <param name="interval">One line per distinct message per this long; zero lets every line through.</param>
    public RepeatedLogFilter(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        _interval = interval;
    }

    /// <summary>Most distinct messages remembered; beyond it the oldest are forgotten (so memory stays bounded).</summary>
    public const int MaxDistinct = 1000;

    /// <summary>
    /// Whether to log <paramref name="message"/> now; when true, <paramref name="suppressed"/> is how many
    /// like it were held back since it was last logged.
    /// </summary>
    public bool ShouldLog(string message, TimeSpan now, out long suppressed)
    {
        suppressed = 0;
        if (_interval == TimeSpan.Zero) return true;
        string key = Shape(message);
        lock (_gate)
        {
            if (_seen.TryGetValue(key, out var entry) && now - entry.Logged < _interval)
            {
                _seen[key] = (entry.Logged, entry.Suppressed + 1);
                return false;
            }
            suppressed = entry.Suppressed;
            if (_seen.Count >= MaxDistinct && !_seen.ContainsKey(key))
            {
                var oldest = _seen.MinBy(p => p.Value.Logged).Key;
                _seen.Remove(oldest);
            }
            _seen[key] = (now, 0);
            return true;
        }
    }

    /// <summary>What a line let through after others were held back says about them ("" when none were).</summary>
    public static string Note(long heldBack) => heldBack > 0 ? $" ({heldBack:N0} more like it since it was last logged)" : "";

    /// <summary>The message with every run of digits replaced by '#'.</summary>
    internal static string Shape(string message)
    {
        // librdkafka's log lines start with the thread ("[thrd:127.0.0.1:9092/1]: "); the same error reported
        // through the error callback does not.
        if (message.StartsWith("[thrd:", StringComparison.Ordinal) && message.IndexOf("]: ", StringComparison.Ordinal) is int end and > 0)
            message = message[(end + 3)..];
        var shape = new StringBuilder(message.Length);
        bool inDigits = false;
        foreach (char c in message)
        {
            if (char.IsAsciiDigit(c))
            {
                if (!inDigits) shape.Append('#');
                inDigits = true;
                continue;
            }
            inDigits = false;
            shape.Append(c);
        }
        return shape.ToString();
    }
}
