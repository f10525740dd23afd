namespace StreamDetect.Engine.Cli;

/// <summary>
/// The rate of a growing count over the interval since the previous progress line, not since the start:
/// a run that trained for 40 s and then streamed at 78k events/s must not print a few thousand per second.
/// Fed once per progress line (by the <see cref="ProgressReporter"/>'s timer thread).
/// </summary>
public sealed class IntervalRate
{
    private long _lastCount;
    private TimeSpan _lastAt;
    private bool _started;

    /// <summary>Marks a moment when the count is known to be <paramref name="count"/> (e.g. 0 while the model trains) without printing.</summary>
    public void Mark(long count, TimeSpan at)
    {
        _lastCount = count;
        _lastAt = at;
        _started = true;
    }

    /// <summary>
    /// "N/s over the last S s" for the count now, then remembers it for the next line. The first line measures
    /// from the last <see cref="Mark"/> (or from the start when none).
    /// </summary>
    public string Describe(long count, TimeSpan at)
    {
        if (!_started) Mark(0, TimeSpan.Zero);
        double seconds = (at - _lastAt).TotalSeconds;
        double rate = seconds > 0 ? Math.Max(0, count - _lastCount) / seconds : 0;
        Mark(count, at);
        return $"{rate:N0}/s over the last {seconds:0.#} s";
    }
}
