using Akka.Streams;
using Akka.Streams.Stage;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// Releases settled alerts in their canonical order (order key, user, event): an alert leaves once every
/// event with an order key at or below its own is settled (<see cref="Ordering.DecisionLedger.AllSettledThrough"/>),
/// so no alert that sorts before it can still appear. This stage is where events count as settled: a settled
/// batch's alerts join the held ones first, then its events are marked settled. The same input therefore gives the alerts in the same
/// order whatever the timing. Alerts to emit again after a crash go first. Held alerts are retried every
/// <see cref="RetryInterval"/> and when events are settled; at the end of the stream everything left goes, in order.
/// <para>
/// It is the loop's last reader of the settled requests: with <c>returnsRequestArrays</c> it gives their pooled arrays
/// back (<see cref="ScoringRequestArrays"/>) once they are marked settled. Only when nothing else keeps requests (no
/// feature dump, no online learning's observer or shadow).
/// </para>
/// </summary>
public sealed class AlertRelease : GraphStage<FlowShape<SettledBatch, AlertRecord>>
{
    private readonly ScoringContext _context;
    private readonly bool _returnsRequestArrays;

    public AlertRelease(ScoringContext context, bool returnsRequestArrays = false)
    {
        _context = context;
        _returnsRequestArrays = returnsRequestArrays;
        Shape = new FlowShape<SettledBatch, AlertRecord>(In, Out);
    }

    public static TimeSpan RetryInterval { get; } = TimeSpan.FromMilliseconds(10);

    public Inlet<SettledBatch> In { get; } = new("alert-release.in");

    public Outlet<AlertRecord> Out { get; } = new("alert-release.out");

    public override FlowShape<SettledBatch, AlertRecord> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("alert-release");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string RetryTimer = "retry";
        private readonly AlertRelease _stage;
        private readonly SortedSet<AlertRecord> _held = new(AlertRecord.OutputOrder);
        private readonly Queue<AlertRecord> _ready = new();
        private bool _upstreamDone;

        public Logic(AlertRelease stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        public override void PreStart()
        {
            _stage._context.RegisterRelease(GetAsyncCallback(Release));
            Pull(_stage.In);
        }

        public void OnPush()
        {
            var batch = Grab(_stage.In);
            foreach (var alert in batch.Alerts) _held.Add(alert);
            var ledger = _stage._context.Ledger;
            foreach (var decided in batch.Requests)
                foreach (long key in decided.Request.OrderKeys) ledger.Settled(key);
            if (_stage._returnsRequestArrays)
                foreach (var decided in batch.Requests) decided.Request.Pooled?.Return();
            _stage._context.WakeLoop();
            _stage._context.WakeAdmission();
            Release();
            Pull(_stage.In);
        }

        public void OnUpstreamFinish()
        {
            _upstreamDone = true;
            Release();
        }

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnPull() => Emit();

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        protected override void OnTimer(object timerKey) => Release();

        private void Release()
        {
            while (_stage._context.TryTakeRedelivery(out var again)) _ready.Enqueue(again with { Redelivery = true });
            var ledger = _stage._context.Ledger;
            while (_held.Count > 0 && (_upstreamDone || ledger.AllSettledThrough(_held.Min!.OrderKey)))
            {
                var next = _held.Min!;
                _held.Remove(next);
                _ready.Enqueue(next);
            }
            if (_held.Count > 0 && !IsTimerActive(RetryTimer)) ScheduleOnce(RetryTimer, RetryInterval);
            Emit();
        }

        private void Emit()
        {
            if (_ready.Count > 0 && IsAvailable(_stage.Out)) Push(_stage.Out, _ready.Dequeue());
            if (_upstreamDone && _ready.Count == 0 && _held.Count == 0) CompleteStage();
        }
    }
}
