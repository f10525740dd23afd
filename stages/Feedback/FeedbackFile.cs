using System.Runtime.CompilerServices;

namespace StreamDetect.Stages.Feedback;

/// <summary>
/// Follows a JSON Lines file of feedback labels (<c>{"userId","label":0|1,"alertId"?}</c>) like
/// <c>tail -f</c>: the lines already there, then every line appended while the run goes on, so an
/// analyst (or a case tool) can write verdicts into it. A line is taken once it ends with a newline;
/// an invalid or over-long line is counted and skipped, never echoed.
/// </summary>
public sealed class FeedbackFile
{
    private readonly string _path;
    private readonly TimeSpan _pollInterval;
    private readonly int _maxLineBytes;
    private long _invalid;

    public FeedbackFile(string path, TimeSpan pollInterval, int maxLineBytes = 64 * 1024)
    {
        _path = path;
        _pollInterval = pollInterval;
        _maxLineBytes = maxLineBytes;
    }

    /// <summary>Lines skipped as invalid or too long.</summary>
    public long Invalid => Interlocked.Read(ref _invalid);

    /// <summary>The labels, until <paramref name="cancellation"/> is cancelled (the enumeration then just ends).</summary>
    public async IAsyncEnumerable<FeedbackLabel> Follow([EnumeratorCancellation] CancellationToken cancellation = default)
    {
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: false);
        var chunk = new byte[16 * 1024];
        var line = new List<byte>();
        bool skipping = false; // inside a line that is already too long
        while (!cancellation.IsCancellationRequested)
        {
            int read = stream.Read(chunk, 0, chunk.Length);
            if (read == 0)
            {
                try
                {
                    await Task.Delay(_pollInterval, cancellation);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
                continue;
            }
            for (int i = 0; i < read; i++)
            {
                byte b = chunk[i];
                if (b != (byte)'\n')
                {
                    if (skipping) continue;
                    if (line.Count >= _maxLineBytes)
                    {
                        skipping = true;
                        line.Clear();
                        continue;
                    }
                    line.Add(b);
                    continue;
                }
                if (skipping)
                {
                    skipping = false;
                    Interlocked.Increment(ref _invalid);
                    continue;
                }
                var label = Parse(line);
                line.Clear();
                if (label is not null) yield return label;
            }
        }
    }

    private FeedbackLabel? Parse(List<byte> line)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(line);
        if (span.Length > 0 && span[^1] == (byte)'\r') span = span[..^1];
        if (span.IsEmpty || span.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0) return null; // blank lines are allowed
        var label = FeedbackLabelParser.TryParse(span, out _);
        if (label is null) Interlocked.Increment(ref _invalid);
        return label;
    }
}
