using System.Runtime.InteropServices;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM (<c>docker stop</c>, <c>kill</c>): the first cancels the command's token (a
/// Kafka run then drains, commits and reports; a file or generator run stops) and is remembered, so that
/// a command stopped before its end exits with that signal's code: 130 after SIGINT, 143 after SIGTERM.
/// The process exits with that code if the command has not stopped within the shutdown timeout, or at
/// once on a second signal. (System.CommandLine's own handling cannot tell the command which signal came.)
/// </summary>
public sealed class TerminationSignals : IDisposable
{
    private static int _received;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _shutdownTimeout;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    private TerminationSignals(TimeSpan shutdownTimeout)
    {
        _shutdownTimeout = shutdownTimeout;
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => OnSignal(context, ExitCodes.Interrupted));
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => OnSignal(context, ExitCodes.Terminated));
    }

    /// <summary>The exit code of the first stop signal received, or null when none was.</summary>
    public static int? Received => Volatile.Read(ref _received) is var code && code != 0 ? code : null;

    /// <summary>Cancelled by the first stop signal: the token to invoke the command with.</summary>
    public CancellationToken Stop => _stop.Token;

    /// <summary>Starts handling the signals; dispose to restore the default handling.</summary>
    public static TerminationSignals Listen(TimeSpan shutdownTimeout) => new(shutdownTimeout);

    private void OnSignal(PosixSignalContext context, int exitCode)
    {
        context.Cancel = true; // the command stops itself; the process is not killed by the signal
        if (Interlocked.CompareExchange(ref _received, exitCode, 0) != 0)
        {
            Environment.Exit(Volatile.Read(ref _received)); // a second signal: stop waiting
            return;
        }
        _ = Task.Run(async () =>
        {
            await _stop.CancelAsync();
            await Task.Delay(_shutdownTimeout);
            await Console.Error.WriteLineAsync($"error: the command did not stop within {_shutdownTimeout.TotalSeconds:N0} s of the signal; exiting");
            Environment.Exit(exitCode);
        });
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _stop.Dispose();
    }
}
