using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Where requests enter the scoring loop: the partitions' batch answers (the inlet) and the follow-ups
/// they send later to the stream's inbox, which go first. Requests carrying keys the stream did not read
/// itself (rescored after a crash, handed over) are admitted to the decision ledger here. The loop is done
/// when the inlet has finished and every event the stream admitted is settled: only then can no
/// follow-up come any more.
/// </summary>
public sealed class ScoringLoopEntry : GraphStage<FlowShape<ScoringRequest, ScoringRequest>>
{
    private readonly ScoringContext _context;

    public ScoringLoopEntry(ScoringContext context)
    {
        _context = context;
        Shape = new FlowShape<ScoringRequest, ScoringRequest>(In, Out);
    }

    public Inlet<ScoringRequest> In { get; } = new("scoring-loop.in");

    public Outlet<ScoringRequest> Out { get; } = new("scoring-loop.out");

    public override FlowShape<ScoringRequest, ScoringRequest> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("scoring-loop-entry");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    /// <summary>How long nothing may be settled while events wait before the loop warns (a lost message between nodes, a stuck store).</summary>
    public static TimeSpan StallWarning { get; } = TimeSpan.FromSeconds(30);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string WatchTimer = "watch";
        private readonly ScoringLoopEntry _stage;
        private long _settledAtLastCheck = -1;
        private ScoringRequest? _waiting; // from the inlet, not pushed yet (a follow-up went first)
        private bool _inletDone;

        public Logic(ScoringLoopEntry stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        public override void PreStart()
        {
            _stage._context.RegisterLoop(GetAsyncCallback(OnWake));
            ScheduleRepeatedly(WatchTimer, StallWarning);
            Pull(_stage.In);
        }

        protected override void OnTimer(object timerKey)
        {
            var ledger = _stage._context.Ledger;
            long settled = ledger.SettledTotal, waiting = ledger.Unsettled;
            if (waiting > 0 && settled == _settledAtLastCheck)
                Log.Warning("scoring loop: {0} events admitted and not settled, none settled for {1} s (a partition or the scorer does not answer)",
                    waiting, StallWarning.TotalSeconds);
            _settledAtLastCheck = settled;
        }

        public void OnPush()
        {
            _waiting = Grab(_stage.In);
            if (IsAvailable(_stage.Out)) OnPull();
        }

        public void OnUpstreamFinish()
        {
            _inletDone = true;
            OnWake();
        }

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnPull()
        {
            if (_stage._context.TryTakeFollowUp(out var followUp))
            {
                Push(_stage.Out, Admit(followUp));
            }
            else if (_waiting is { } request)
            {
                _waiting = null;
                Push(_stage.Out, Admit(request));
                if (!_inletDone) Pull(_stage.In);
            }
            else if (_inletDone)
            {
                CompleteIfDone();
            }
        }

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        private void OnWake()
        {
            if (IsAvailable(_stage.Out)) OnPull();
            else if (_inletDone) CompleteIfDone();
        }

        private void CompleteIfDone()
        {
            if (_waiting is null && !_stage._context.HasFollowUps && _stage._context.Ledger.Unsettled == 0) CompleteStage();
        }

        private ScoringRequest Admit(ScoringRequest request)
        {
            if (request.AdmitKeys is { } keys)
                foreach (long key in keys) _stage._context.Ledger.AdmitKey(key);
            return request;
        }
    }
}
