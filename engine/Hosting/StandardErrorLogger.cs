using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// The engine's Akka logger (<c>akka.loggers</c>): every log event (Akka's own, and librdkafka's, which
/// the Kafka stages log through Akka) as text on stderr, or appended to <c>streamdetect.logging.file</c>
/// when that is set. Never stdout: stdout carries the alerts when it is the alert sink. Akka's default
/// logger writes to stdout, so hocon/streamdetect.conf replaces it with this one and turns
/// <c>akka.stdout-loglevel</c> off.
/// </summary>
public sealed class StandardErrorLogger : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>HOCON key of the optional log file (empty: stderr).</summary>
    public const string FileKey = "streamdetect.logging.file";

    /// <summary>HOCON key: whether a logged exception comes with its stack trace (on with <c>--verbose</c>).</summary>
    public const string StackTracesKey = "streamdetect.logging.stack-traces";

    private readonly TextWriter _out;
    private readonly bool _ownsWriter;
    private readonly bool _stackTraces;

    public StandardErrorLogger()
    {
        var config = Context.System.Settings.Config;
        _stackTraces = config.GetBoolean(StackTracesKey, false);
        string path = config.GetString(FileKey, "") ?? "";
        if (path.Length == 0)
        {
            _out = Console.Error;
            return;
        }
        try
        {
            var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            _out = new StreamWriter(stream) { AutoFlush = true };
            _ownsWriter = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _out = Console.Error;
            _out.WriteLine($"warning: {FileKey} '{path}' cannot be written ({e.Message}); logging to stderr");
        }
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent logEvent:
                _out.WriteLine(Format(logEvent, _stackTraces));
                return true;
            default:
                return false;
        }
    }

    /// <summary>One line per event: <c>[LEVEL][time][source] message</c>, and the cause's type and message (its stack trace on further lines only with stack-traces on).</summary>
    public static string Format(LogEvent e, bool stackTraces)
    {
        string level = e.LogLevel() switch
        {
            LogLevel.DebugLevel => "DEBUG",
            LogLevel.InfoLevel => "INFO",
            LogLevel.WarningLevel => "WARNING",
            _ => "ERROR",
        };
        string line = $"[{level}][{e.Timestamp.ToUniversalTime():yyyy-MM-ddTHH:mm:ss.fffZ}][{e.LogSource}] {e.Message}";
        if (e.Cause is not { } cause) return line;
        return stackTraces
            ? $"{line}{Environment.NewLine}Cause: {cause}"
            : $"{line} (cause: {cause.GetType().FullName}: {cause.Message.ReplaceLineEndings(" ")})";
    }

    protected override void PostStop()
    {
        if (_ownsWriter) _out.Dispose();
        base.PostStop();
    }
}
