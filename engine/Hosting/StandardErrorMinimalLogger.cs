using Akka.Event;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// Akka's minimal logger (<c>akka.stdout-logger-class</c>): the one Akka uses before the configured loggers
/// start and after they stop (while the actor system shuts down, at <c>akka.loglevel</c>). Akka's own
/// writes to stdout, the alert stream; this one writes the same lines to stderr.
/// </summary>
public sealed class StandardErrorMinimalLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        if (message is LogEvent logEvent) Console.Error.WriteLine(StandardErrorLogger.Format(logEvent, stackTraces: false));
    }
}
