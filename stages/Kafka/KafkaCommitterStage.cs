using Akka.Streams;
using Akka.Streams.Stage;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Marks offsets done in their consumer sessions at once (so a revocation waiting for them sees them),
/// and asks those sessions to commit every max-batch records or max-interval.
/// </summary>
internal sealed class KafkaCommitterStage : GraphStageWithMaterializedValue<SinkShape<CommittableOffset>, Task>
{
    private readonly KafkaCommitterSettings _settings;

    public KafkaCommitterStage(KafkaCommitterSettings settings)
    {
        _settings = settings;
        Shape = new SinkShape<CommittableOffset>(In);
    }

    public Inlet<CommittableOffset> In { get; } = new("KafkaCommitter.in");

    public override SinkShape<CommittableOffset> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("kafkaCommitter");

    public override ILogicAndMaterializedValue<Task> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return new LogicAndMaterializedValue<Task>(new Logic(this, completion), completion.Task);
    }

    private sealed class Logic : TimerGraphStageLogic
    {
        private const string CommitTimer = "commit";

        private readonly KafkaCommitterStage _stage;
        private readonly TaskCompletionSource _completion;
        private readonly HashSet<KafkaConsumerSession> _dirty = [];
        private readonly HashSet<KafkaConsumerSession> _all = [];
        private int _pending;
        private bool _finishing;

        public Logic(KafkaCommitterStage stage, TaskCompletionSource completion) : base(stage.Shape)
        {
            _stage = stage;
            _completion = completion;
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: () => Finish(null), onUpstreamFailure: Finish);
        }

        public override void PreStart() => Pull(_stage.In);

        public override void PostStop()
        {
            if (!_finishing) _completion.TrySetException(new AbruptStageTerminationException(this));
        }

        protected override void OnTimer(object timerKey) => Flush();

        private void OnPush()
        {
            var offset = Grab(_stage.In);
            offset.Session.MarkDone(offset);
            _dirty.Add(offset.Session);
            _all.Add(offset.Session);
            if (++_pending >= _stage._settings.MaxBatch) Flush();
            else if (!IsTimerActive(CommitTimer)) ScheduleOnce(CommitTimer, _stage._settings.MaxInterval);
            Pull(_stage.In);
        }

        private void Flush()
        {
            foreach (var session in _dirty) _ = session.RequestCommit();
            _dirty.Clear();
            _pending = 0;
            CancelTimer(CommitTimer);
        }

        private void Finish(Exception? failure)
        {
            // Done is done, even when the stream failed: commit it.
            _finishing = true;
            var commits = _all.Select(s => s.RequestCommit()).ToArray();
            var completion = _completion;
            Task.WhenAll(commits).ContinueWith(_ =>
            {
                if (failure is null) completion.TrySetResult();
                else completion.TrySetException(failure);
            }, TaskScheduler.Default);
            _all.Clear();
            _dirty.Clear();
            CompleteStage();
        }
    }
}
