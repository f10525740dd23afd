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
/// <para>
/// With a <see cref="ModelSchedule"/> (<see cref="ScoringContext.Schedule"/>), no request is scored across a plan change:
/// a request whose first event is at or past a boundary not resolved yet is held here (its events stay admitted and
/// undecided; the other users' requests go on, so the events before the boundary get decided and the trainer can
/// resolve it), and a request whose events reach a plan change or an unresolved boundary is cut there
/// (<see cref="ScoringRequest.Cut"/>): settled, its partition sends the rest as the user's next request.
/// </para>
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
        private readonly List<ScoringRequest> _held = []; // admitted, at or past a boundary not resolved yet
        private readonly Queue<ScoringRequest> _released = new(); // held, and a boundary was resolved since: routed again
        private Action? _onResolved;
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
            if (_stage._context.Schedule is { } schedule)
            {
                _onResolved = GetAsyncCallback(OnResolved);
                schedule.Resolved += _onResolved;
            }
            ScheduleRepeatedly(WatchTimer, StallWarning);
            Pull(_stage.In);
        }

        public override void PostStop()
        {
            if (_onResolved is not null && _stage._context.Schedule is { } schedule) schedule.Resolved -= _onResolved;
        }

        protected override void OnTimer(object timerKey)
        {
            var ledger = _stage._context.Ledger;
            long settled = ledger.SettledTotal, waiting = ledger.Unsettled;
            if (waiting > 0 && settled == _settledAtLastCheck)
            {
                if (_held.Count > 0)
                    Log.Warning("scoring loop: {0} events admitted and not settled, none settled for {1} s; {2} requests wait for model boundary {3} to be resolved (the online trainer)",
                        waiting, StallWarning.TotalSeconds, _held.Count, _stage._context.Schedule?.NextBoundary);
                else
                    Log.Warning("scoring loop: {0} events admitted and not settled, none settled for {1} s (a partition or the scorer does not answer)",
                        waiting, StallWarning.TotalSeconds);
            }
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
            while (true)
            {
                ScoringRequest next;
                if (_stage._context.TryTakeFollowUp(out var followUp))
                {
                    next = Admit(followUp);
                }
                else if (_released.TryDequeue(out var released))
                {
                    next = released;
                }
                else if (_waiting is { } request)
                {
                    _waiting = null;
                    next = Admit(request);
                    if (!_inletDone) Pull(_stage.In);
                }
                else
                {
                    if (_inletDone) CompleteIfDone();
                    return;
                }
                if (Route(next) is { } routed)
                {
                    Push(_stage.Out, routed);
                    return;
                }
            }
        }

        /// <summary>The request as it may be scored now (cut at a plan change), or null when it is held at an unresolved boundary.</summary>
        private ScoringRequest? Route(ScoringRequest request)
        {
            if (_stage._context.Schedule is not { } schedule) return request;
            int scorable = schedule.Scorable(request.OrderKeys);
            if (scorable > 0) return request.Cut(scorable);
            _held.Add(request);
            return null;
        }

        private void OnResolved()
        {
            foreach (var request in _held) _released.Enqueue(request);
            _held.Clear();
            OnWake();
        }

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        private void OnWake()
        {
            if (IsAvailable(_stage.Out)) OnPull();
            else if (_inletDone) CompleteIfDone();
        }

        private void CompleteIfDone()
        {
            if (_waiting is null && _held.Count == 0 && _released.Count == 0 && !_stage._context.HasFollowUps && _stage._context.Ledger.Unsettled == 0)
                CompleteStage();
        }

        private ScoringRequest Admit(ScoringRequest request)
        {
            if (request.AdmitKeys is { } keys)
                foreach (long key in keys) _stage._context.Ledger.AdmitKey(key);
            return request;
        }
    }
}
