using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>
/// A test double of the scoring side's schedule, driven by the test: the test says how far the stream has read
/// (<see cref="Reached"/>), and every resolution is recorded. Boundaries are the grid's multiples from the first one reached.
/// </summary>
public sealed class ScriptedSchedule(long boundaryMs) : IModelSchedule
{
    private readonly List<(long Boundary, ModelPlan Plan)> _resolved = [];
    private long? _reached;

    public long BoundaryMs { get; } = boundaryMs;

    public IReadOnlyList<(long Boundary, ModelPlan Plan)> Resolved
    {
        get
        {
            lock (_resolved) return [.. _resolved];
        }
    }

    /// <summary>The stream admitted an event with this order key.</summary>
    public void Reached(long orderKey)
    {
        lock (_resolved) _reached = Math.Max(_reached ?? long.MinValue, orderKey);
    }

    public long? PendingBoundary
    {
        get
        {
            lock (_resolved) return PendingBoundaryUnlocked();
        }
    }

    private long? _first;

    /// <summary>The first order key of the stream (the first boundary is the grid point at or below it).</summary>
    public void Starts(long orderKey)
    {
        lock (_resolved) _first = orderKey;
    }

    public void Resolve(long boundaryKey, ModelPlan plan)
    {
        if (RefuseResolve is { } refused) throw refused;
        lock (_resolved)
        {
            if (PendingBoundaryUnlocked() != boundaryKey) throw new InvalidOperationException($"boundary {boundaryKey} is not the pending one");
            _resolved.Add((boundaryKey, plan));
        }
    }

    /// <summary>What <see cref="Fail"/> was given (the first), or null.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>When set, every <see cref="Resolve"/> throws it (a plan store that is down).</summary>
    public Exception? RefuseResolve { get; set; }

    public void Fail(Exception failure)
    {
        lock (_resolved) Failure ??= failure;
    }

    /// <summary>The plan in force at an order key.</summary>
    public ModelPlan PlanAt(long orderKey)
    {
        lock (_resolved) return _resolved.Last(r => r.Boundary <= orderKey).Plan;
    }

    private long? PendingBoundaryUnlocked()
    {
        if (_reached is not long reached) return null;
        long next = _resolved.Count == 0 ? Floor(_first ?? reached) : _resolved[^1].Boundary + BoundaryMs;
        return next <= reached ? next : null;
    }

    private long Floor(long key) => Math.DivRem(key, BoundaryMs, out long rest) * BoundaryMs - (rest < 0 ? BoundaryMs : 0);
}
