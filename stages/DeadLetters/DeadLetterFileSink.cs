using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.DeadLetters;

/// <summary>
/// Writes dead letters as JSON Lines (see <see cref="DeadLetterJson"/>) and counts them per reason.
/// The file is created (or truncated) when the stream starts. Materializes a task with the counts that
/// completes once everything is flushed. Runs on the blocking-IO dispatcher.
/// </summary>
public sealed class DeadLetterFileSink : GraphStageWithMaterializedValue<SinkShape<DeadLetter>, Task<DeadLetterSummary>>
{
    private readonly string _path;
    private readonly DeadLetterSettings _settings;

    private DeadLetterFileSink(string path, DeadLetterSettings settings)
    {
        _path = path;
        _settings = settings;
        Shape = new SinkShape<DeadLetter>(In);
    }

    public Inlet<DeadLetter> In { get; } = new("dead-letters.in");

    public override SinkShape<DeadLetter> Shape { get; }

    protected override Attributes InitialAttributes { get; } =
        Attributes.CreateName("dead-letter-file-sink")
            .And(ActorAttributes.CreateDispatcher("akka.stream.default-blocking-io-dispatcher"));

    /// <summary>A sink writing to <paramref name="path"/>.</summary>
    public static Sink<DeadLetter, Task<DeadLetterSummary>> Create(string path, DeadLetterSettings? settings = null) =>
        Sink.FromGraph(new DeadLetterFileSink(path, settings ?? DeadLetterSettings.Default));

    /// <summary>A sink that only counts (no file).</summary>
    public static Sink<DeadLetter, Task<DeadLetterSummary>> CountOnly() =>
        Sink.Aggregate<DeadLetter, Dictionary<string, long>>(new Dictionary<string, long>(), (counts, letter) =>
            {
                counts[letter.Rejection.Code] = counts.GetValueOrDefault(letter.Rejection.Code) + 1;
                return counts;
            })
            .MapMaterializedValue(t => t.ContinueWith(c => new DeadLetterSummary(c.Result.Values.Sum(), c.Result), TaskContinuationOptions.OnlyOnRanToCompletion));

    public override ILogicAndMaterializedValue<Task<DeadLetterSummary>> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var completion = new TaskCompletionSource<DeadLetterSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        return new LogicAndMaterializedValue<Task<DeadLetterSummary>>(new Logic(this, completion), completion.Task);
    }

    private sealed class Logic : InGraphStageLogic
    {
        private const int FlushEvery = 256;
        private readonly DeadLetterFileSink _stage;
        private readonly TaskCompletionSource<DeadLetterSummary> _completion;
        private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
        private FileStream? _file;
        private long _total;

        public Logic(DeadLetterFileSink stage, TaskCompletionSource<DeadLetterSummary> completion) : base(stage.Shape)
        {
            _stage = stage;
            _completion = completion;
            SetHandler(stage.In, this);
        }

        public override void PreStart()
        {
            try
            {
                string? directory = Path.GetDirectoryName(Path.GetFullPath(_stage._path));
                if (directory is not null) Directory.CreateDirectory(directory);
                _file = new FileStream(_stage._path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var error = new IOException($"cannot write dead letters to '{_stage._path}': {e.Message}", e);
                _completion.TrySetException(error);
                FailStage(error);
                return;
            }
            Pull(_stage.In);
        }

        public override void OnPush()
        {
            var letter = Grab(_stage.In);
            byte[] line = DeadLetterJson.ToUtf8(letter, _stage._settings.MaxRawBytes);
            _file!.Write(line);
            _file.WriteByte((byte)'\n');
            _total++;
            _counts[letter.Rejection.Code] = _counts.GetValueOrDefault(letter.Rejection.Code) + 1;
            if (_total % FlushEvery == 0) _file.Flush();
            Pull(_stage.In);
        }

        public override void OnUpstreamFinish()
        {
            Close();
            _completion.TrySetResult(new DeadLetterSummary(_total, new Dictionary<string, long>(_counts)));
            CompleteStage();
        }

        public override void OnUpstreamFailure(Exception e)
        {
            Close();
            _completion.TrySetException(e);
            FailStage(e);
        }

        public override void PostStop()
        {
            Close();
            _completion.TrySetException(new AbruptStageTerminationException(this));
        }

        private void Close()
        {
            _file?.Flush();
            _file?.Dispose();
            _file = null;
        }
    }
}
