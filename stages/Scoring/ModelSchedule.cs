using StreamDetect.Models.Detection;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// The scoring loop's <see cref="IModelSchedule"/>: the plan in force at every order key, on a grid of
/// <see cref="BoundaryMs"/>. The grid starts at the first order key the stream admits (rounded down to the grid;
/// <c>origin</c> fixes it instead): the initial plan holds below the first boundary past it, and every later boundary
/// must be resolved before an event at or past it is scored.
/// <para>
/// How the loop uses it: <see cref="ScoringLoopEntry"/> asks <see cref="Scorable"/> for each request and holds a request
/// whose first event is at or past the first unresolved boundary (other users' requests go on), or cuts a request
/// short where the plan changes or is unresolved (its partition sends the rest as its next request); the
/// <see cref="Scorer"/> scores each request with the plan at its first key (<see cref="PlanAt"/>), the shadow on the
/// same batch. So no request is scored across a plan change, and every event is scored by the plan in force at its key.
/// </para>
/// <para>
/// Ownership: the schedule disposes the detectors that resolved plans bring (never the initial plan's, which its
/// caller owns): on the scorer thread once no segment from the ledger's frontier on uses them
/// (<see cref="Retire"/>), the rest in <see cref="Dispose"/>. A plan's detectors are the scorer's alone from then on
/// (the trainer keeps instances of its own); a plan that brings back an instance already disposed is refused (load the
/// version again). <see cref="BoundaryMs"/> = 0 is a fixed plan: nothing is held, cut or
/// looked up. Thread-safe.
/// </para>
/// </summary>
public sealed class ModelSchedule : IModelSchedule, IDisposable
{
    private readonly object _gate = new();
    private readonly HashSet<IAnomalyDetector> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<IAnomalyDetector> _retired = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, IAnomalyDetector> _known = new(StringComparer.Ordinal);
    private readonly List<PlanChange> _history = [];
    private volatile Timeline _timeline;
    private long _maxReached = long.MinValue;
    private volatile bool _started;
    private bool _disposed;
    private Exception? _failure;

    /// <param name="initial">The plan from the start (its detectors stay the caller's).</param>
    /// <param name="boundaryMs">The grid of order keys the plan may change at; 0: never (a fixed plan).</param>
    /// <param name="origin">Where the grid starts (rounded down to it); null: at the first order key admitted.</param>
    public ModelSchedule(ModelPlan initial, long boundaryMs, long? origin = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentOutOfRangeException.ThrowIfNegative(boundaryMs);
        InitialPlan = initial;
        BoundaryMs = boundaryMs;
        _timeline = new Timeline([long.MinValue], [initial], long.MaxValue);
        Know(initial);
        if (origin is long o && boundaryMs > 0) Start(o);
    }

    /// <summary>A schedule whose plan never changes: <paramref name="champion"/> scores everything.</summary>
    public static ModelSchedule Fixed(IAnomalyDetector champion) => new(new ModelPlan(champion, null, "fixed"), 0);

    public long BoundaryMs { get; }

    /// <summary>The plan from the start.</summary>
    public ModelPlan InitialPlan { get; }

    /// <summary>Whether the plan never changes (<see cref="BoundaryMs"/> = 0).</summary>
    public bool IsFixed => BoundaryMs == 0;

    /// <summary>Raised (on the resolving thread) after <see cref="Resolve"/>: held requests may go on.</summary>
    public event Action? Resolved;

    public long? PendingBoundary
    {
        get
        {
            if (IsFixed) return null;
            lock (_gate)
            {
                long next = _timeline.NextUnresolved;
                return _started && _maxReached >= next ? next : null;
            }
        }
    }

    /// <summary>The smallest boundary not resolved yet (whether or not an event reached it), or null before the first event (and for a fixed plan).</summary>
    public long? NextBoundary
    {
        get
        {
            if (IsFixed) return null;
            lock (_gate) return _started ? _timeline.NextUnresolved : null;
        }
    }

    /// <summary>Every resolved boundary so far, in order, with the plan's model names (for the run report and the logs).</summary>
    public IReadOnlyList<PlanChange> History
    {
        get
        {
            lock (_gate) return _history.ToArray();
        }
    }

    public void Resolve(long boundaryKey, ModelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (IsFixed) throw new InvalidOperationException("the model schedule is fixed (boundary 0): it has no boundaries to resolve");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var t = _timeline;
            if (!_started || boundaryKey != t.NextUnresolved)
                throw new ArgumentException(
                    $"boundary {boundaryKey} is not the next unresolved one ({(_started ? t.NextUnresolved.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none: no event admitted yet")})",
                    nameof(boundaryKey));
            foreach (var detector in Detectors(plan))
                if (_retired.Contains(detector))
                    throw new ArgumentException($"plan at boundary {boundaryKey}: {detector.StateKey} is an instance the schedule retired and disposed; load the version again", nameof(plan));
            _timeline = new Timeline([.. t.Starts, boundaryKey], [.. t.Plans, plan], boundaryKey + BoundaryMs);
            foreach (var detector in Detectors(plan))
                if (!Detectors(InitialPlan).Contains(detector)) _owned.Add(detector);
            Know(plan);
            var previous = t.Plans[^1];
            _history.Add(new PlanChange(boundaryKey, plan.Champion.StateKey, plan.Shadow?.StateKey, plan.Reason, !SameDetectors(previous, plan)));
        }
        Resolved?.Invoke();
    }

    /// <summary>Why no boundary can be resolved any more (<see cref="Fail"/>), or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public void Fail(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (Interlocked.CompareExchange(ref _failure, failure, null) is not null) return;
        // The held requests are routed again, and fail the stream now (Scorable).
        Resolved?.Invoke();
    }

    /// <summary>An order key was admitted: starts the grid at the first one, and records how far the stream reached (<see cref="PendingBoundary"/>).</summary>
    public void Observe(long key)
    {
        if (IsFixed) return;
        // Only keys at or past the next unresolved boundary matter (a key below it stays below every later one): no lock for the others.
        if (_started && key < _timeline.NextUnresolved) return;
        if (key <= Volatile.Read(ref _maxReached)) return;
        lock (_gate)
        {
            if (!_started) Start(key);
            if (key > _maxReached) _maxReached = key;
        }
    }

    /// <summary>
    /// How many of a request's leading events (<paramref name="keys"/>, its order keys, non-decreasing) may be scored
    /// now, all under one plan: all of them, fewer (the plan changes, or is not resolved yet, at the key of the first
    /// one left out), or 0 when the first is at or past a boundary not resolved yet (the request waits for
    /// <see cref="Resolve"/>). Records the keys as reached.
    /// </summary>
    /// <exception cref="Exception">The schedule's <see cref="Failure"/>, when the first is at or past a boundary that can no longer be resolved.</exception>
    public int Scorable(IReadOnlyList<long> keys)
    {
        if (IsFixed || keys.Count == 0) return keys.Count;
        if (!_started) Observe(keys[0]);
        Observe(keys[^1]);
        var t = _timeline;
        long first = keys[0];
        if (first >= t.NextUnresolved)
        {
            if (Failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            return 0;
        }
        int at = t.IndexAt(first);
        long limit = t.NextUnresolved;
        for (int i = at + 1; i < t.Plans.Length; i++)
        {
            if (!SameDetectors(t.Plans[at], t.Plans[i]))
            {
                limit = t.Starts[i];
                break;
            }
        }
        if (keys[^1] < limit) return keys.Count;
        int cut = 1;
        while (cut < keys.Count && keys[cut] < limit) cut++;
        return cut;
    }

    /// <summary>The plan in force at an order key (the oldest one kept for a key below every segment kept).</summary>
    public ModelPlan PlanAt(long key)
    {
        if (IsFixed) return InitialPlan;
        var t = _timeline;
        return t.Plans[t.IndexAt(key)];
    }

    /// <summary>A detector a plan brought, by its <see cref="IAnomalyDetector.StateKey"/> (its thresholds, for the decisions), or null.</summary>
    public IAnomalyDetector? DetectorFor(string stateKey)
    {
        lock (_gate) return _known.GetValueOrDefault(stateKey);
    }

    /// <summary>
    /// Drops the segments that end at or below <paramref name="frontier"/> (no event admitted from then on has a key
    /// there: <c>DecisionLedger.Frontier</c>) and disposes the detectors no kept segment uses. Call it on the scorer
    /// thread, between batches. Returns how many detectors it disposed.
    /// </summary>
    public int Retire(long frontier)
    {
        if (IsFixed) return 0;
        List<IAnomalyDetector>? dispose = null;
        lock (_gate)
        {
            var t = _timeline;
            int keep = t.IndexAt(frontier);
            if (keep == 0 || _disposed) return 0;
            var starts = t.Starts[keep..];
            starts[0] = long.MinValue;
            var plans = t.Plans[keep..];
            _timeline = new Timeline(starts, plans, t.NextUnresolved);
            var used = new HashSet<IAnomalyDetector>(ReferenceEqualityComparer.Instance);
            foreach (var plan in plans) used.UnionWith(Detectors(plan));
            foreach (var detector in _owned)
                if (!used.Contains(detector)) (dispose ??= []).Add(detector);
            if (dispose is not null)
            {
                _owned.ExceptWith(dispose);
                _retired.UnionWith(dispose);
            }
        }
        if (dispose is null) return 0;
        foreach (var detector in dispose) detector.Dispose();
        return dispose.Count;
    }

    /// <summary>Disposes every detector resolved plans brought and the schedule still holds (not the initial plan's). Call it once scoring is over.</summary>
    public void Dispose()
    {
        IAnomalyDetector[] dispose;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            dispose = [.. _owned];
            _owned.Clear();
        }
        foreach (var detector in dispose) detector.Dispose();
    }

    private void Start(long key)
    {
        _started = true;
        long origin = key >= 0 ? key / BoundaryMs * BoundaryMs : (key - BoundaryMs + 1) / BoundaryMs * BoundaryMs;
        var t = _timeline;
        _timeline = new Timeline(t.Starts, t.Plans, origin + BoundaryMs);
    }

    private void Know(ModelPlan plan)
    {
        foreach (var detector in Detectors(plan)) _known[detector.StateKey] = detector;
    }

    private static IEnumerable<IAnomalyDetector> Detectors(ModelPlan plan) =>
        plan.Shadow is { } shadow ? [plan.Champion, shadow] : [plan.Champion];

    /// <summary>Whether two plans score with the same detectors (a plan resolved "unchanged" needs no cut).</summary>
    public static bool SameDetectors(ModelPlan a, ModelPlan b) =>
        ReferenceEquals(a.Champion, b.Champion) && ReferenceEquals(a.Shadow, b.Shadow);

    /// <summary>An immutable view: plan i is in force from Starts[i] (Starts[0] = long.MinValue) up to the next start; nothing at or past NextUnresolved.</summary>
    private sealed class Timeline(long[] starts, ModelPlan[] plans, long nextUnresolved)
    {
        public long[] Starts { get; } = starts;
        public ModelPlan[] Plans { get; } = plans;
        public long NextUnresolved { get; } = nextUnresolved;

        public int IndexAt(long key)
        {
            if (Starts.Length == 1) return 0;
            int i = Array.BinarySearch(Starts, key);
            return i >= 0 ? i : Math.Max(0, ~i - 1);
        }
    }
}
