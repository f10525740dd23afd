using Akka.Streams;
using Akka.Streams.Stage;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Where events enter a scoring run: each gets its order key from the decision ledger (and is counted
/// there until it is settled), and no more than <c>max-unsettled-events</c> are let in at once. That bound
/// is what keeps memory flat with a slow scorer: events of a user whose request is in flight wait in the
/// user's partition (persisted, with their feature rows), and without it a fast source would pile them up
/// there. While the bound is reached the stage stops pulling, so the source slows down.
/// </summary>
public sealed class ScoringAdmission : GraphStage<FlowShape<IngestedEvent, IngestedEvent>>
{
    private readonly ScoringContext _context;
    private readonly long _maxUnsettled;

    public ScoringAdmission(ScoringContext context, long maxUnsettled)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUnsettled, 1);
        _context = context;
        _maxUnsettled = maxUnsettled;
        Shape = new FlowShape<IngestedEvent, IngestedEvent>(In, Out);
    }

    public Inlet<IngestedEvent> In { get; } = new("scoring-admission.in");

    public Outlet<IngestedEvent> Out { get; } = new("scoring-admission.out");

    public override FlowShape<IngestedEvent, IngestedEvent> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("scoring-admission");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string CheckTimer = "room";
        private readonly ScoringAdmission _stage;
        private bool _waitingForRoom;

        public Logic(ScoringAdmission stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        public override void PreStart() => _stage._context.RegisterAdmission(GetAsyncCallback(OnRoom));

        public void OnPush()
        {
            var e = Grab(_stage.In);
            e.OrderKey = _stage._context.Ledger.Admit(SourceStream.Of(e.Position), e.Event.TimestampMs);
            _stage._context.Schedule?.Observe(e.OrderKey);
            Push(_stage.Out, e);
        }

        public void OnPull()
        {
            if (_stage._context.Ledger.Unsettled < _stage._maxUnsettled)
            {
                Pull(_stage.In);
                return;
            }
            _waitingForRoom = true;
            // Settlements wake this stage; the timer only guards against a wake-up lost in between.
            ScheduleRepeatedly(CheckTimer, TimeSpan.FromMilliseconds(20));
        }

        public void OnUpstreamFinish() => CompleteStage();

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        protected override void OnTimer(object timerKey) => OnRoom();

        private void OnRoom()
        {
            if (!_waitingForRoom || _stage._context.Ledger.Unsettled >= _stage._maxUnsettled) return;
            _waitingForRoom = false;
            CancelTimer(CheckTimer);
            Pull(_stage.In);
        }
    }
}
