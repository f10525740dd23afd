using Akka.Streams;
using Akka.Streams.Stage;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// Writes alerts as JSON Lines to a file, a named pipe or a character device (stdout), one whole line per
/// write, flushed; each alert is passed on once it is written (so it can be confirmed delivered).
/// <list type="bullet">
/// <item>A regular file on a fresh state is started anew; on kept state it is appended to, after cutting
/// off a partial last line a crash may have left (the bytes cut are reported).</item>
/// <item>A named pipe or a device is only written to, never read or truncated.</item>
/// </list>
/// </summary>
public sealed class AlertFileWriter : GraphStage<FlowShape<AlertRecord, AlertRecord>>
{
    private readonly string _path;
    private readonly bool _fresh;
    private readonly Action<string> _log;
    private readonly Func<Stream>? _open;

    /// <param name="fresh">Start a regular file anew (the run's state is fresh) instead of appending.</param>
    /// <param name="log">Where to report a cut partial line.</param>
    public AlertFileWriter(string path, bool fresh, Action<string> log)
    {
        _path = path;
        _fresh = fresh;
        _log = log;
        Shape = new FlowShape<AlertRecord, AlertRecord>(In, Out);
    }

    /// <summary>Writes to a stream the caller opened (stdout).</summary>
    public AlertFileWriter(string name, Func<Stream> open)
    {
        _path = name;
        _open = open;
        _log = _ => { };
        Shape = new FlowShape<AlertRecord, AlertRecord>(In, Out);
    }

    public Inlet<AlertRecord> In { get; } = new("alert-file.in");

    public Outlet<AlertRecord> Out { get; } = new("alert-file.out");

    public override FlowShape<AlertRecord, AlertRecord> Shape { get; }

    protected override Attributes InitialAttributes { get; } =
        Attributes.CreateName("alert-file").And(ActorAttributes.CreateDispatcher("akka.stream.default-blocking-io-dispatcher"));

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    /// <summary>Opens the alert file as described above; returns the stream to append to and how many bytes of a partial last line were cut.</summary>
    public static (Stream Stream, long CutBytes) Open(string path, bool fresh)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        // Unbuffered: every alert line is one write, so a crash leaves at most one partial line (cut on the next start).
        if (!File.Exists(path)) return (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0), 0);
        var write = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        if (!write.CanSeek) return (write, 0); // a named pipe or a device: write only
        write.Dispose();
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        if (fresh)
        {
            file.SetLength(0);
            return (file, 0);
        }
        long keep = EndOfLastLine(file);
        long cut = file.Length - keep;
        if (cut > 0) file.SetLength(keep);
        file.Seek(0, SeekOrigin.End);
        return (file, cut);
    }

    /// <summary>The length of the file up to and including its last line break (0 when it has none).</summary>
    private static long EndOfLastLine(FileStream file)
    {
        var buffer = new byte[64 * 1024];
        long end = file.Length;
        while (end > 0)
        {
            int count = (int)Math.Min(buffer.Length, end);
            file.Seek(end - count, SeekOrigin.Begin);
            file.ReadExactly(buffer, 0, count);
            int at = Array.LastIndexOf(buffer, (byte)'\n', count - 1, count);
            if (at >= 0) return end - count + at + 1;
            end -= count;
        }
        return 0;
    }

    private sealed class Logic : GraphStageLogic, IInHandler, IOutHandler
    {
        private readonly AlertFileWriter _stage;
        private Stream? _stream;

        public Logic(AlertFileWriter stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        public override void PreStart()
        {
            if (_stage._open is { } open)
            {
                _stream = open();
                return;
            }
            var (stream, cut) = Open(_stage._path, _stage._fresh);
            _stream = stream;
            if (cut > 0) _stage._log($"alerts file '{_stage._path}': cut a partial last line of {cut:N0} bytes left by an earlier run that stopped while writing it (the alert is emitted again whole)");
        }

        public void OnPush()
        {
            var alert = Grab(_stage.In);
            var line = new byte[alert.Json.Length + 1];
            alert.Json.CopyTo(line, 0);
            line[^1] = (byte)'\n';
            _stream!.Write(line);
            _stream.Flush();
            Push(_stage.Out, alert);
        }

        public void OnPull() => Pull(_stage.In);

        public void OnUpstreamFinish() => CompleteStage();

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        public override void PostStop()
        {
            if (_stage._open is null) _stream?.Dispose();
            else _stream?.Flush();
        }
    }
}
