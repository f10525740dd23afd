using Akka.Streams;
using Akka.Streams.Stage;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// The <see cref="AlertDecider"/> as a stream stage: scored batches in, decided requests out (in lists).
/// Requests waiting for thresholds are held inside and retried every <see cref="RetryInterval"/>; the
/// stage keeps taking scored batches while it holds some (the events they wait for may still be on their
/// way), and stops pulling only when too many decided lists wait for downstream.
/// </summary>
/// <para>
/// Issue 11: with <see cref="ShadowDecisions"/>, a batch a shadow scored too is decided by the shadow first (its own
/// thresholds and alert states, its alerts to the shadow output only); an <see cref="IScoringObserver"/> sees every
/// decided request once, with the shadow's verdicts on it, on this stage's thread.
/// </para>
public sealed class DecisionStage : GraphStage<FlowShape<ScoredBatch, IReadOnlyList<DecidedRequest>>>
{
    private readonly AlertDecider _decider;
    private readonly ShadowDecisions? _shadow;
    private readonly IScoringObserver? _observer;

    public DecisionStage(AlertDecider decider, ShadowDecisions? shadow = null, IScoringObserver? observer = null)
    {
        _decider = decider;
        _shadow = shadow;
        _observer = observer;
        Shape = new FlowShape<ScoredBatch, IReadOnlyList<DecidedRequest>>(In, Out);
    }

    /// <summary>How often held requests are tried again.</summary>
    public static TimeSpan RetryInterval { get; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Decided lists waiting for downstream before the stage stops taking scored batches.</summary>
    public const int MaxWaiting = 64;

    public Inlet<ScoredBatch> In { get; } = new("decision.in");

    public Outlet<IReadOnlyList<DecidedRequest>> Out { get; } = new("decision.out");

    public override FlowShape<ScoredBatch, IReadOnlyList<DecidedRequest>> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("decision");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string RetryTimer = "retry";
        private readonly DecisionStage _stage;
        private readonly Queue<IReadOnlyList<DecidedRequest>> _waiting = new();
        private bool _upstreamDone;

        public Logic(DecisionStage stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        public override void PreStart() => Pull(_stage.In);

        public void OnPush()
        {
            var decided = new List<DecidedRequest>();
            var batch = Grab(_stage.In);
            _stage._shadow?.Offer(batch);
            _stage._decider.Offer(batch, decided);
            Enqueue(decided);
            if (_waiting.Count < MaxWaiting) Pull(_stage.In);
            ScheduleRetryIfHolding();
        }

        public void OnUpstreamFinish()
        {
            _upstreamDone = true;
            CompleteIfDone();
        }

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnPull()
        {
            if (_waiting.Count > 0) Push(_stage.Out, _waiting.Dequeue());
            if (!_upstreamDone && !HasBeenPulled(_stage.In) && _waiting.Count < MaxWaiting) Pull(_stage.In);
            CompleteIfDone();
        }

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        protected override void OnTimer(object timerKey)
        {
            var decided = new List<DecidedRequest>();
            _stage._decider.Retry(decided);
            Enqueue(decided);
            ScheduleRetryIfHolding();
            CompleteIfDone();
        }

        private void Enqueue(List<DecidedRequest> decided)
        {
            if (decided.Count == 0) return;
            if (_stage._shadow is { } shadow)
            {
                foreach (var d in decided)
                {
                    var verdicts = shadow.Take(d.Request);
                    _stage._observer?.Decided(d, verdicts);
                }
                shadow.Flush();
            }
            else if (_stage._observer is { } observer)
            {
                foreach (var d in decided) observer.Decided(d, null);
            }
            if (IsAvailable(_stage.Out) && _waiting.Count == 0) Push(_stage.Out, decided);
            else _waiting.Enqueue(decided);
        }

        private void ScheduleRetryIfHolding()
        {
            if (_stage._decider.Held > 0 && !IsTimerActive(RetryTimer)) ScheduleOnce(RetryTimer, RetryInterval);
        }

        private void CompleteIfDone()
        {
            if (_upstreamDone && _waiting.Count == 0 && _stage._decider.Held == 0)
            {
                _stage._shadow?.Complete();
                CompleteStage();
            }
        }
    }
}
