using System.Diagnostics;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// Prints a progress line to stderr at a fixed interval while long work runs (every 2 s on a terminal,
/// every 10 s when stderr is redirected, so logs stay readable). Nothing is printed for work that ends
/// before the first interval.
/// </summary>
public sealed class ProgressReporter : IDisposable
{
    private readonly Func<TimeSpan, string> _line;
    private readonly Timer _timer;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TextWriter _output;
    private readonly object _gate = new();
    private bool _disposed;

    public ProgressReporter(Func<TimeSpan, string> line, TimeSpan? interval = null, TextWriter? output = null)
    {
        _line = line;
        _output = output ?? Console.Error;
        var period = interval ?? (Console.IsErrorRedirected ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(2));
        _timer = new Timer(_ => Report(), null, period, period);
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    private void Report()
    {
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                _output.WriteLine(_line(_clock.Elapsed));
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // stderr went away; progress is best effort.
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }
        _timer.Dispose();
    }
}
