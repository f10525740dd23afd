using System.Collections.Concurrent;
using System.Diagnostics;
using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using TorchSharp;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Runs a detector over micro-batches: one <see cref="IAnomalyDetector.ScoreBatch"/> (one forward pass)
/// per batch, on one dedicated thread (TorchSharp work never blocks the actor dispatchers, and a detector
/// instance sees one batch at a time). It keeps nothing per user: every request carries the model state
/// its user's partition holds, which is always the state after the user's previous event (a user has one
/// request in flight at a time). The detector can be swapped between batches (hot swap of a new model version).
/// </summary>
public sealed class Scorer : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private IAnomalyDetector _detector;
    private long _batches, _requests, _events, _scoringTicks, _shadowEvents, _retired;
    private readonly Dictionary<string, long> _eventsByModel = new(StringComparer.Ordinal);
    private readonly List<(string Model, Dictionary<string, ModelStateSlot> Users)> _shadowStates = []; // scorer thread only

    // Stopwatch timestamp at which the forward pass now running started; 0 while none runs.
    private long _busySince;

    public Scorer(IAnomalyDetector detector, ScorerSettings settings)
    {
        _detector = detector;
        _thread = new Thread(Loop) { IsBackground = true, Name = "scorer" };
        _thread.Start();
        Run(() => torch.set_num_threads(settings.EffectiveTorchThreads)).Wait();
    }

    /// <summary>The detector now scoring.</summary>
    public IAnomalyDetector Detector => Volatile.Read(ref _detector);

    public long Batches => Interlocked.Read(ref _batches);

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Events scored (a request holds one or more).</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Time spent in forward passes.</summary>
    public TimeSpan ScoringTime => TimeSpan.FromTicks(Interlocked.Read(ref _scoringTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

    /// <summary>
    /// Time spent in forward passes up to <paramref name="nowTicks"/> (a <see cref="Stopwatch"/> timestamp), the
    /// pass running now included as far as it got: sampled twice, the difference over the wall time between
    /// is the scorer's busy share, which a long pass does not push above 1.
    /// </summary>
    public TimeSpan BusyTime(long nowTicks)
    {
        long since = Interlocked.Read(ref _busySince);
        long done = Interlocked.Read(ref _scoringTicks);
        // A pass that ended between the two reads is in both: counted once.
        if (since != 0 && Interlocked.Read(ref _busySince) == since) done += Math.Max(0, nowTicks - since);
        return TimeSpan.FromTicks(done * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
    }

    /// <summary>The scorer as a stream stage: one batch in flight, in order.</summary>
    public Flow<IReadOnlyList<ScoringRequest>, ScoredBatch, NotUsed> Flow() =>
        Akka.Streams.Dsl.Flow.Create<IReadOnlyList<ScoringRequest>>().SelectAsync(1, ScoreAsync).Named("scorer");

    /// <summary>Scores a batch on the scorer thread.</summary>
    public Task<ScoredBatch> ScoreAsync(IReadOnlyList<ScoringRequest> batch) => Run(() => Score(batch));

    /// <summary>Replaces the detector; batches already started finish with the old one. Returns the old one (the caller disposes it).</summary>
    public Task<IAnomalyDetector> SwapAsync(IAnomalyDetector detector) => Run(() =>
    {
        var old = _detector;
        Volatile.Write(ref _detector, detector);
        return old;
    });

    /// <summary>
    /// The scorer as a stream stage scoring with the plans of <paramref name="schedule"/> (issue 11): each request with
    /// the plan in force at its first order key (the loop entry cut requests at plan changes), the plan's shadow on the
    /// same requests; a batch whose requests fall under different plans becomes one scored batch per plan, in order.
    /// After each batch, the detectors of segments below <paramref name="frontier"/> are retired (disposed).
    /// </summary>
    public Flow<IReadOnlyList<ScoringRequest>, ScoredBatch, NotUsed> Flow(ModelSchedule schedule, Func<long>? frontier) =>
        Akka.Streams.Dsl.Flow.Create<IReadOnlyList<ScoringRequest>>()
            .SelectAsync(1, batch => ScoreAsync(batch, schedule, frontier))
            .SelectMany(scored => scored)
            .Named("scorer");

    /// <summary>Scores a batch on the scorer thread with the plans of <paramref name="schedule"/> (see <see cref="Flow(ModelSchedule, Func{long})"/>).</summary>
    public Task<IReadOnlyList<ScoredBatch>> ScoreAsync(IReadOnlyList<ScoringRequest> batch, ModelSchedule schedule, Func<long>? frontier = null) =>
        Run(() => Score(batch, schedule, frontier));

    /// <summary>Events each champion scored (name@version), when scoring with a schedule; empty otherwise.</summary>
    public IReadOnlyDictionary<string, long> EventsByModel
    {
        get
        {
            lock (_eventsByModel) return new Dictionary<string, long>(_eventsByModel);
        }
    }

    /// <summary>Events the shadows scored (beside the champion).</summary>
    public long ShadowEvents => Interlocked.Read(ref _shadowEvents);

    /// <summary>Detectors disposed because no plan from the ledger's frontier on used them.</summary>
    public long Retired => Interlocked.Read(ref _retired);

    private IReadOnlyList<ScoredBatch> Score(IReadOnlyList<ScoringRequest> batch, ModelSchedule schedule, Func<long>? frontier)
    {
        if (batch.Count == 0) return [];
        IReadOnlyList<ScoredBatch> scored;
        var plan = schedule.PlanAt(batch[0].OrderKeys[0]);
        bool onePlan = true;
        if (!schedule.IsFixed)
            for (int i = 1; i < batch.Count && onePlan; i++)
                onePlan = ModelSchedule.SameDetectors(plan, schedule.PlanAt(batch[i].OrderKeys[0]));
        if (onePlan)
        {
            scored = [ScoreWith(batch, plan)];
        }
        else
        {
            var groups = new List<(ModelPlan Plan, List<ScoringRequest> Requests)>();
            foreach (var request in batch)
            {
                var at = schedule.PlanAt(request.OrderKeys[0]);
                int g = groups.FindIndex(group => ModelSchedule.SameDetectors(group.Plan, at));
                if (g < 0) groups.Add((at, [request]));
                else groups[g].Requests.Add(request);
            }
            scored = groups.Select(group => ScoreWith(group.Requests, group.Plan)).ToArray();
        }
        if (frontier is not null && !schedule.IsFixed) Interlocked.Add(ref _retired, schedule.Retire(frontier()));
        return scored;
    }

    private ScoredBatch ScoreWith(IReadOnlyList<ScoringRequest> batch, ModelPlan plan)
    {
        Volatile.Write(ref _detector, plan.Champion);
        var scored = Score(batch, plan.Champion);
        lock (_eventsByModel) _eventsByModel[scored.Model] = _eventsByModel.GetValueOrDefault(scored.Model) + CountEvents(batch);
        if (plan.Shadow is not { } shadow) return scored;
        // The shadow's per-user states are kept here (the partitions keep the champion's): each user's first request
        // under the shadow rebuilds it from the window (it starts at the user's first event at or past the shadow's
        // boundary), the next ones carry it, so its verdicts do not depend on how the user's events were split into requests.
        var states = ShadowStatesOf(shadow.StateKey);
        var inputs = new ScoringInput[batch.Count];
        long events = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            var r = batch[i];
            inputs[i] = new ScoringInput(r.UserId, r.Window, r.NewEvents, r.Features, states.GetValueOrDefault(r.UserId), r.EventCount);
            events += r.NewEvents;
        }
        var (outputs, _) = Pass(shadow, inputs);
        for (int i = 0; i < outputs.Count; i++)
            if (outputs[i].NewState is { } state) states[batch[i].UserId] = state;
        Interlocked.Add(ref _shadowEvents, events);
        return scored with { ShadowModel = shadow.StateKey, ShadowOutputs = outputs };
    }

    /// <summary>The per-user states of a shadow version, kept for the two latest shadow versions (those around a boundary).</summary>
    private Dictionary<string, ModelStateSlot> ShadowStatesOf(string model)
    {
        int at = _shadowStates.FindIndex(s => s.Model == model);
        if (at >= 0 && at == _shadowStates.Count - 1) return _shadowStates[at].Users;
        Dictionary<string, ModelStateSlot> users;
        if (at >= 0)
        {
            users = _shadowStates[at].Users;
            _shadowStates.RemoveAt(at);
        }
        else
        {
            users = new Dictionary<string, ModelStateSlot>(StringComparer.Ordinal);
            if (_shadowStates.Count == 2) _shadowStates.RemoveAt(0);
        }
        _shadowStates.Add((model, users));
        return users;
    }

    private static long CountEvents(IReadOnlyList<ScoringRequest> batch)
    {
        long events = 0;
        foreach (var r in batch) events += r.NewEvents;
        return events;
    }

    /// <summary>One forward pass per batch; one verdict per new event of every request.</summary>
    private ScoredBatch Score(IReadOnlyList<ScoringRequest> batch) => Score(batch, _detector);

    private ScoredBatch Score(IReadOnlyList<ScoringRequest> batch, IAnomalyDetector detector)
    {
        var (outputs, elapsed) = Pass(detector, Inputs(batch, detector, out long events));
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _requests, batch.Count);
        Interlocked.Add(ref _events, events);
        return new ScoredBatch(batch, outputs, detector.StateKey, TimeSpan.FromTicks(elapsed * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
    }

    /// <summary>The detector's inputs: a request's model state only when <paramref name="detector"/> wrote it (another version's is rebuilt from the window).</summary>
    private static ScoringInput[] Inputs(IReadOnlyList<ScoringRequest> batch, IAnomalyDetector detector, out long events)
    {
        var inputs = new ScoringInput[batch.Count];
        events = 0;
        string key = detector.StateKey;
        for (int i = 0; i < inputs.Length; i++)
        {
            var r = batch[i];
            inputs[i] = new ScoringInput(r.UserId, r.Window, r.NewEvents, r.Features, r.State is { } s && s.ModelKey == key ? s : null, r.EventCount);
            events += r.NewEvents;
        }
        return inputs;
    }

    private (IReadOnlyList<ScoringOutput> Outputs, long Elapsed) Pass(IAnomalyDetector detector, ScoringInput[] inputs)
    {
        long start = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _busySince, start);
        IReadOnlyList<ScoringOutput> outputs;
        long elapsed;
        try
        {
            outputs = detector.ScoreBatch(inputs);
        }
        finally
        {
            elapsed = Stopwatch.GetTimestamp() - start;
            Interlocked.Add(ref _scoringTicks, elapsed);
            Interlocked.Exchange(ref _busySince, 0);
        }
        return (outputs, elapsed);
    }

    private Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool added;
        try
        {
            added = _work.TryAdd(() =>
            {
                try
                {
                    done.TrySetResult(work());
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
            });
        }
        catch (InvalidOperationException)
        {
            // Disposed (TryAdd throws once adding is complete): the batch's task fails, the caller's stage is not thrown at.
            added = false;
        }
        if (!added) done.TrySetException(new ObjectDisposedException(nameof(Scorer)));
        return done.Task;
    }

    private Task Run(Action work) => Run(() =>
    {
        work();
        return true;
    });

    private void Loop()
    {
        foreach (var action in _work.GetConsumingEnumerable()) action();
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
