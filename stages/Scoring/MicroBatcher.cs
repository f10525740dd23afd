using Akka.Streams;
using Akka.Streams.Stage;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Groups elements into batches of at most <c>max-batch</c>, emitting a batch as soon as it is full or
/// when its <em>first</em> element has waited <c>max-wait</c> (so max-wait bounds the latency a batch
/// adds). It holds at most one batch: while downstream does not pull, it stops pulling upstream once
/// the batch is full, so a slow scorer slows the source instead of growing memory. A partial batch
/// whose time is up is emitted as soon as downstream asks. Upstream completion flushes the last batch.
/// </summary>
public sealed class MicroBatcher<T> : GraphStage<FlowShape<T, IReadOnlyList<T>>>
{
    private readonly MicroBatcherSettings _settings;

    public MicroBatcher(MicroBatcherSettings settings)
    {
        if (settings.MaxBatch < 1) throw new ArgumentOutOfRangeException(nameof(settings), "max-batch must be at least 1");
        if (settings.MaxWait <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(settings), "max-wait must be positive");
        _settings = settings;
        Shape = new FlowShape<T, IReadOnlyList<T>>(In, Out);
    }

    public Inlet<T> In { get; } = new("micro-batcher.in");

    public Outlet<IReadOnlyList<T>> Out { get; } = new("micro-batcher.out");

    public override FlowShape<T, IReadOnlyList<T>> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("micro-batcher");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string MaxWaitTimer = "max-wait";
        private readonly MicroBatcher<T> _stage;
        private List<T> _batch;
        private bool _due; // the first element of the batch has waited max-wait

        public Logic(MicroBatcher<T> stage) : base(stage.Shape)
        {
            _stage = stage;
            _batch = new List<T>(stage._settings.MaxBatch);
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        public override void PreStart() => Pull(_stage.In);

        public void OnPush()
        {
            var element = Grab(_stage.In);
            if (_batch.Count == 0) ScheduleOnce(MaxWaitTimer, _stage._settings.MaxWait);
            _batch.Add(element);
            if (_batch.Count >= _stage._settings.MaxBatch)
            {
                _due = true;
                if (IsAvailable(_stage.Out)) Emit();
                // else: full; wait for downstream before pulling again (backpressure)
            }
            else
            {
                Pull(_stage.In);
            }
        }

        public void OnUpstreamFinish()
        {
            if (_batch.Count == 0)
            {
                CompleteStage();
                return;
            }
            _due = true;
            if (IsAvailable(_stage.Out)) Emit();
        }

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnPull()
        {
            if (_due && _batch.Count > 0) Emit();
        }

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        protected override void OnTimer(object timerKey)
        {
            _due = true;
            if (IsAvailable(_stage.Out) && _batch.Count > 0) Emit();
        }

        private void Emit()
        {
            var batch = _batch;
            _batch = new List<T>(_stage._settings.MaxBatch);
            _due = false;
            CancelTimer(MaxWaitTimer);
            Push(_stage.Out, batch);
            if (IsClosed(_stage.In))
            {
                if (_batch.Count == 0) CompleteStage();
            }
            else if (!HasBeenPulled(_stage.In))
            {
                Pull(_stage.In);
            }
        }
    }
}
