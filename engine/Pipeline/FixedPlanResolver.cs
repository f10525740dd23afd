using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Drives a <see cref="ModelSchedule"/> whose plan never changes (issue 11): every boundary the stream reaches is resolved
/// with the plan before it ("unchanged") once every event before it is decided, as the online trainer does with the same
/// waits, but without training. `bench --model-grid-hours` measures with it what the schedule's grid costs the loop
/// (requests held at boundaries and cut at them). Polls on a thread of its own; dispose it to stop.
/// </summary>
public sealed class FixedPlanResolver : IDisposable
{
    private readonly ModelSchedule _schedule;
    private readonly DecisionLedger _ledger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public FixedPlanResolver(ModelSchedule schedule, DecisionLedger ledger)
    {
        _schedule = schedule;
        _ledger = ledger;
        _thread = new Thread(Loop) { IsBackground = true, Name = "fixed-plan-resolver" };
        _thread.Start();
    }

    /// <summary>Boundaries resolved so far.</summary>
    public long Resolved { get; private set; }

    /// <summary>The online path of a run whose plan is <paramref name="start"/>'s model on a grid of <paramref name="boundary"/> (zero: a fixed schedule, nothing to resolve).</summary>
    public static OnlineScoring Start(OnlineScoringStart start, TimeSpan boundary)
    {
        var schedule = new ModelSchedule(new ModelPlan(start.Champion, null, "unchanged"), (long)boundary.TotalMilliseconds);
        return new OnlineScoring(schedule, null, schedule.IsFixed ? null : new FixedPlanResolver(schedule, start.Ledger));
    }

    private void Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (_schedule.PendingBoundary is long boundary && _ledger.AllDecidedBefore(boundary))
            {
                var plan = _schedule.PlanAt(boundary - 1);
                _schedule.Resolve(boundary, plan with { Reason = "unchanged" });
                Resolved++;
                continue;
            }
            _stop.Token.WaitHandle.WaitOne(1);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
