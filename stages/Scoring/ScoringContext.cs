using System.Collections.Concurrent;
using Akka.Actor;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Ordering;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// What the stages of one stream's scoring loop share: the decision ledger, the follow-up requests the
/// partitions send to the stream's inbox, and alerts to emit again after a crash. Stages are woken
/// through callbacks they register when they start.
/// </summary>
public sealed class ScoringContext
{
    private readonly ConcurrentQueue<ScoringRequest> _followUps = new();
    private readonly ConcurrentQueue<AlertRecord> _redeliveries = new();
    private volatile Action? _wakeLoop, _wakeRelease, _wakeAdmission;

    public ScoringContext(DecisionLedger ledger)
    {
        Ledger = ledger;
    }

    public DecisionLedger Ledger { get; }

    /// <summary>
    /// The model plan over order keys when it can change (issue 11: the loop holds requests at unresolved boundaries
    /// and cuts requests where the plan changes); null for a fixed plan (nothing to hold or cut). Set when the loop is built.
    /// </summary>
    public ModelSchedule? Schedule { get; set; }

    /// <summary>The stream's scoring inbox (an actor partitions send <see cref="Partitions.FollowUps"/> to); set when the loop is built.</summary>
    public IActorRef? Inbox { get; set; }

    /// <summary>Follow-up requests received (from the inbox).</summary>
    public void AddFollowUps(IEnumerable<ScoringRequest> requests)
    {
        foreach (var request in requests) _followUps.Enqueue(request);
        WakeLoop();
    }

    public bool TryTakeFollowUp(out ScoringRequest request) => _followUps.TryDequeue(out request!);

    public bool HasFollowUps => !_followUps.IsEmpty;

    /// <summary>Alerts journaled before a crash and never confirmed delivered: emitted again (the output drops ones it holds).</summary>
    public void AddRedeliveries(IEnumerable<AlertRecord> alerts)
    {
        bool any = false;
        foreach (var alert in alerts)
        {
            _redeliveries.Enqueue(alert);
            any = true;
        }
        if (any) _wakeRelease?.Invoke();
    }

    /// <summary>
    /// Checks the alerts a partition hands out when it recovered while the stream runs (its node died, or it moved)
    /// against the output before they go out again: answers those to emit, and confirms the others delivered. A node
    /// killed after the output took an alert but before its delivery was journaled leaves such alerts; emitted again
    /// unchecked they would be duplicates. Null: every one goes out again. Set when the run is built.
    /// </summary>
    public Func<IReadOnlyList<AlertRecord>, Task<IReadOnlyList<AlertRecord>>>? RedeliveryCheck { get; set; }

    /// <summary>
    /// <see cref="AddRedeliveries"/> after <see cref="RedeliveryCheck"/>: completes once the alerts to emit again are
    /// queued, so a stream that awaits it cannot finish before they go out.
    /// </summary>
    public async Task AddCheckedRedeliveriesAsync(IReadOnlyList<AlertRecord> alerts)
    {
        if (alerts.Count == 0) return;
        var again = RedeliveryCheck is { } check ? await check(alerts).ConfigureAwait(false) : alerts;
        AddRedeliveries(again);
    }

    public bool TryTakeRedelivery(out AlertRecord alert) => _redeliveries.TryDequeue(out alert!);

    /// <summary>Something the loop waits for changed (follow-ups arrived, events were settled).</summary>
    public void WakeLoop() => _wakeLoop?.Invoke();

    /// <summary>Events were settled: held alerts may be releasable.</summary>
    public void WakeRelease() => _wakeRelease?.Invoke();

    /// <summary>Events were settled or dropped: there may be room to admit more.</summary>
    public void WakeAdmission() => _wakeAdmission?.Invoke();

    /// <summary>Everything waiting on settlements may go on.</summary>
    public void WakeAll()
    {
        _wakeLoop?.Invoke();
        _wakeRelease?.Invoke();
        _wakeAdmission?.Invoke();
    }

    internal void RegisterLoop(Action wake) => _wakeLoop = wake;

    internal void RegisterRelease(Action wake) => _wakeRelease = wake;

    internal void RegisterAdmission(Action wake) => _wakeAdmission = wake;
}
