using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>
/// A test's online trainer without training: resolves each boundary the stream reaches, once every event before it is
/// decided (as the trainer must), with the plan a script gives for the boundary's number (0 = the first resolved).
/// Records how many events were admitted and undecided (held at or past the boundary) when it resolved each.
/// </summary>
internal sealed class ScriptedResolver : IDisposable
{
    private readonly ModelSchedule _schedule;
    private readonly DecisionLedger _ledger;
    private readonly Func<int, ModelPlan, ModelPlan> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly List<(long Boundary, long Undecided)> _resolved = [];

    /// <param name="script">The plan for boundary number n, given the plan before it.</param>
    public ScriptedResolver(ModelSchedule schedule, DecisionLedger ledger, Func<int, ModelPlan, ModelPlan> script)
    {
        _schedule = schedule;
        _ledger = ledger;
        _script = script;
        _thread = new Thread(Loop) { IsBackground = true, Name = "scripted-resolver" };
        _thread.Start();
    }

    public IReadOnlyList<(long Boundary, long Undecided)> Resolved
    {
        get
        {
            lock (_resolved) return _resolved.ToArray();
        }
    }

    public Exception? Failure { get; private set; }

    private void Loop()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (_schedule.PendingBoundary is long boundary && _ledger.AllDecidedBefore(boundary))
                {
                    long undecided = _ledger.Undecided;
                    int n;
                    lock (_resolved) n = _resolved.Count;
                    _schedule.Resolve(boundary, _script(n, _schedule.PlanAt(boundary - 1)));
                    lock (_resolved) _resolved.Add((boundary, undecided));
                    continue;
                }
                _stop.Token.WaitHandle.WaitOne(1);
            }
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
