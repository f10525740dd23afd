using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Decides what a shadow model would have alerted on (issue 11), beside the champion's decisions and on the same
/// scored batches, on the decision stage's thread: with the shadow's own thresholds (its calibration at the run's
/// alert rate; they do not learn online, so they never wait for the ledger) and an alert state per user of its own
/// (cooldowns, open days), which never touches the user's real one. Its alerts go to the <see cref="ShadowAlertFile"/>
/// and to the observer (<see cref="ShadowVerdicts"/>), never to the alert sink, the partitions or the journal.
/// </summary>
public sealed class ShadowDecisions : IDisposable
{
    /// <summary>Shadow models whose per-user alert states are kept (the ones around a boundary); an older one starts afresh if it comes back.</summary>
    private const int ModelsKept = 2;

    private readonly AlertDecider _decider;
    private readonly DecisionLedger _ledger;
    private readonly Dictionary<ScoringRequest, ShadowVerdicts> _verdicts = new(ReferenceEqualityComparer.Instance);
    private readonly List<(string Model, Dictionary<string, UserAlertState> Users)> _states = [];
    private readonly List<DecidedRequest> _decided = [];

    /// <param name="thresholds">The run's threshold settings; online mode becomes "model" for the shadow (its fitted thresholds).</param>
    /// <param name="modelThreshold">A model's fitted thresholds by its name@version.</param>
    public ShadowDecisions(AlertSettings settings, ThresholdSettings thresholds, Func<string, ModelThreshold?> modelThreshold, DecisionLedger ledger,
        int windowSize, ShadowAlertFile output)
    {
        var fixedThresholds = thresholds.Mode == "online" ? thresholds with { Mode = "model" } : thresholds;
        _decider = new AlertDecider(settings, fixedThresholds, modelThreshold, ledger, windowSize, countsDecisions: false);
        _ledger = ledger;
        Output = output;
    }

    public ShadowAlertFile Output { get; }

    /// <summary>Requests the shadow decided whose champion decision has not been taken yet.</summary>
    public int Waiting => _verdicts.Count;

    /// <summary>Decides the shadow's verdicts on a scored batch (nothing when no shadow scored it).</summary>
    public void Offer(ScoredBatch batch)
    {
        if (batch.ShadowOutputs is not { } outputs || batch.ShadowModel is not { } model) return;
        var users = UsersOf(model);
        var requests = new ScoringRequest[batch.Requests.Count];
        for (int i = 0; i < requests.Length; i++)
        {
            var r = batch.Requests[i];
            requests[i] = r with { Alert = users.TryGetValue(r.UserId, out var state) ? state : UserAlertState.None };
        }
        _decided.Clear();
        _decider.Offer(new ScoredBatch(requests, outputs, model, TimeSpan.Zero), _decided);
        if (_decided.Count != requests.Length || _decider.Held > 0)
            throw new InvalidOperationException($"shadow {model}: {requests.Length - _decided.Count} requests were not decided at once (its thresholds must not wait)");
        for (int i = 0; i < _decided.Count; i++)
        {
            var d = _decided[i];
            users[d.Request.UserId] = d.Alert;
            // Keyed by the champion's request (the same events): its decision takes the verdicts.
            _verdicts[batch.Requests[i]] = new ShadowVerdicts(model, d.Output, d.Alerts);
            if (d.Alerts.Count > 0) Output.Add(d.Alerts);
        }
        _decided.Clear();
    }

    /// <summary>The shadow's verdicts on a request the champion decided (removed), or null when no shadow scored it.</summary>
    public ShadowVerdicts? Take(ScoringRequest request) => _verdicts.Remove(request, out var verdicts) ? verdicts : null;

    /// <summary>Writes the shadow alerts that are due (see <see cref="ShadowAlertFile.Flush"/>).</summary>
    public void Flush() => Output.Flush(_ledger);

    /// <summary>The decisions are over: every shadow alert left is written.</summary>
    public void Complete() => Output.Complete();

    public void Dispose() => Output.Dispose();

    private Dictionary<string, UserAlertState> UsersOf(string model)
    {
        int at = _states.FindIndex(s => s.Model == model);
        if (at == _states.Count - 1 && at >= 0) return _states[at].Users;
        Dictionary<string, UserAlertState> users;
        if (at >= 0)
        {
            users = _states[at].Users;
            _states.RemoveAt(at);
        }
        else
        {
            users = new Dictionary<string, UserAlertState>(StringComparer.Ordinal);
            if (_states.Count == ModelsKept) _states.RemoveAt(0);
        }
        _states.Add((model, users));
        return users;
    }
}
