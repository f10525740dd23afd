using Akka.Actor;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// The state of one user partition and every rule about it, without an actor: de-duplication of replayed
/// events, folding events into users, the scoring ledger (which events are unscored, one request in flight
/// per user, settling), the alerts journaled but not yet delivered, and what a snapshot holds. The
/// <see cref="UserPartition"/> actor is glue around it (persistence, stashing, messages); tests drive this
/// class directly.
/// </summary>
public sealed class PartitionState
{
    private readonly int _partition;
    private readonly UserPartitionSettings _settings;
    private readonly long _incarnation;
    private readonly Dictionary<string, UserRecord> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _pendingMarks = new(StringComparer.Ordinal);
    // Per applied row, scratch: the users it touched in first-seen order.
    private readonly List<KeyValuePair<string, UserRecord>> _touched = [];
    private readonly HashSet<string> _touchedSet = new(StringComparer.Ordinal);
    private long _nextTicket;
    private bool _rescoreDue, _undeliveredDue;

    /// <param name="incarnation">Distinguishes this incarnation's tickets from those of an earlier one (a random number per start).</param>
    public PartitionState(int partition, UserPartitionSettings settings, long incarnation)
    {
        _partition = partition;
        _settings = settings;
        _incarnation = incarnation == 0 ? 1 : incarnation;
    }

    public int Partition => _partition;

    public ReplayFilter Replays { get; } = new();

    public PendingAlerts Alerts { get; } = new();

    public IReadOnlyDictionary<string, UserRecord> Users => _users;

    /// <summary>Events folded into the state, ever (recovered ones included).</summary>
    public long EventsApplied { get; private set; }

    /// <summary>Replayed events dropped since start.</summary>
    public long Duplicates { get; private set; }

    /// <summary>Users with events persisted and not yet confirmed scored.</summary>
    public int UsersAwaitingScoring => _users.Values.Count(u => u.Tail is not null);

    /// <summary>
    /// Splits a batch into the events to persist and the replays to drop (their order keys, for the
    /// stream's decision ledger). <paramref name="freshIndex"/> receives the batch index of each fresh event.
    /// </summary>
    public List<PersistedEvent> Accept(IReadOnlyList<IngestedEvent> events, List<long> droppedKeys, List<int> freshIndex)
    {
        var fresh = new List<PersistedEvent>(events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (!Replays.TryAccept(e.Position))
            {
                droppedKeys.Add(e.OrderKey != 0 ? e.OrderKey : e.Event.TimestampMs);
                Duplicates++;
                continue;
            }
            fresh.Add(new PersistedEvent(e.Event, e.Position, e.OrderKey));
            freshIndex.Add(i);
        }
        return fresh;
    }

    /// <summary>
    /// Folds a journal row into the state (live, after it was written, or read back during recovery).
    /// Live (<paramref name="live"/> given), every touched user with unscored events and no request in
    /// flight gets a request in <paramref name="requests"/>. Returns how many users were seen for the first time.
    /// </summary>
    public int Apply(EventsPersisted row, LiveRow? live, List<ScoringRequest>? requests, List<HandOver>? handOvers = null)
    {
        int newUsers = 0;
        for (int i = 0; i < row.Events.Count; i++)
        {
            var (e, position, _) = row.Events[i];
            Replays.MarkApplied(position);
            if (!_users.TryGetValue(e.UserId, out var user))
            {
                user = new UserRecord(new UserBehaviorState(_settings.WindowSize));
                _users[e.UserId] = user;
                newUsers++;
            }
            if (row.AwaitingScoring)
            {
                if (live?.Inbox is { } inbox && !Equals(user.Inbox, inbox)) SwitchInbox(user, inbox, handOvers);
                user.Tail ??= new ScoringTail(user.Behavior.Window.ToArray(), user.Behavior.EventCount + 1, _settings.WindowSize);
                user.Behavior.Apply(e);
                user.Tail.Add(user.Behavior, row.Events[i].Key, e.Label is int label ? (sbyte)label : (sbyte)-1, live?.ReceivedTicks[i] ?? 0, e.Device, e.Ip);
                if (live is not null && _touchedSet.Add(e.UserId)) _touched.Add(new(e.UserId, user));
            }
            else
            {
                // An ingest-only row: nothing will score these events (nor those before them).
                user.Behavior.Apply(e);
                user.Tail = null;
                user.ScoredThrough = user.Behavior.EventCount;
            }
        }
        foreach (var mark in row.Marks)
            if (_users.TryGetValue(mark.UserId, out var user)) Confirm(user, mark.ScoredThrough);
        foreach (var alert in row.Alerts)
        {
            if (_users.TryGetValue(alert.UserId, out var user) && alert.TimeMs >= user.Alert.LastAlertMs)
                user.Alert = user.Alert.WithAlert(alert.TimeMs, alert.AlertId);
            Alerts.Journaled(alert);
        }
        Alerts.DeliveredRecovered(row.Delivered);
        EventsApplied += row.Events.Count;

        if (live is not null)
        {
            foreach (var (userId, user) in _touched)
                if (Issue(userId, user) is { } request) requests!.Add(request);
            _touched.Clear();
            _touchedSet.Clear();
        }
        return newUsers;
    }

    /// <summary>
    /// Settles scored and decided requests: model state, alert state and confirmations for the users whose
    /// tickets are current; the others are stale (returned). Users with events that arrived meanwhile get
    /// their next request in <paramref name="followUps"/> (by inbox). The alerts to journal are returned
    /// in <paramref name="alerts"/>: journal them in a row (<see cref="EventsPersisted.Alerts"/>) and <see cref="Apply"/> it once written; until then they are not pending delivery.
    /// </summary>
    public void Settle(SettleScoring settle, List<RequestTicket> stale, List<AlertRecord> alerts, Dictionary<IActorRef, List<ScoringRequest>> followUps)
    {
        foreach (var s in settle.Users)
        {
            if (!_users.TryGetValue(s.UserId, out var user) || user.InFlight != s.Ticket)
            {
                stale.Add(s.Ticket);
                continue;
            }
            user.InFlight = RequestTicket.None;
            Confirm(user, s.ScoredThrough);
            _pendingMarks[s.UserId] = Math.Max(_pendingMarks.GetValueOrDefault(s.UserId), s.ScoredThrough);
            user.Alert = s.Alert;
            if (s.State is { } slot && slot.EventsFolded <= user.Behavior.EventCount) user.Behavior.ModelState = slot;
            alerts.AddRange(s.Alerts);
            if (Issue(s.UserId, user) is { } next && (user.Inbox ?? settle.Origin) is { } inbox)
            {
                if (!followUps.TryGetValue(inbox, out var list)) followUps[inbox] = list = [];
                list.Add(next);
            }
        }
    }

    /// <summary>Recovery is complete: what was persisted but never confirmed scored, and what was journaled but never delivered, is due once.</summary>
    public void RecoveryCompleted()
    {
        if (!_settings.RescoreAfterCrash)
        {
            foreach (var user in _users.Values)
            {
                user.Tail = null;
                user.ScoredThrough = user.Behavior.EventCount;
            }
        }
        _rescoreDue = _users.Values.Any(u => u.Tail is not null);
        _undeliveredDue = Alerts.Count > 0;
    }

    /// <summary>Whether requests or alerts from before a crash wait to be handed out (<see cref="TakeRescoring"/>).</summary>
    public bool RescoringDue => _rescoreDue || _undeliveredDue;

    /// <summary>
    /// After recovery, once: a request for every user with unscored events (the receiving stream admits their
    /// keys), and the alerts journaled but never delivered. Empty afterwards.
    /// </summary>
    public void TakeRescoring(IActorRef? inbox, List<ScoringRequest> requests, List<AlertRecord> undelivered)
    {
        if (_rescoreDue)
        {
            _rescoreDue = false;
            foreach (var (userId, user) in _users)
            {
                if (user.Tail is null || user.HasRequestInFlight) continue;
                user.Inbox ??= inbox;
                user.AdmitKeys = [.. user.Tail.Keys];
                if (Issue(userId, user) is { } request) requests.Add(request);
            }
        }
        if (_undeliveredDue)
        {
            _undeliveredDue = false;
            undelivered.AddRange(Alerts.Undelivered.OrderBy(a => a, AlertRecord.OutputOrder));
        }
    }

    /// <summary>Whether confirmations wait to be journaled.</summary>
    public bool HasMarksToJournal => _pendingMarks.Count > 0 || Alerts.HasDeliveriesToJournal;

    /// <summary>The confirmations to journal now (then forgotten).</summary>
    public List<ScoredMark>? TakeMarks()
    {
        if (_pendingMarks.Count == 0) return null;
        var marks = _pendingMarks.Select(p => new ScoredMark(p.Key, p.Value)).ToList();
        _pendingMarks.Clear();
        return marks;
    }

    public UserAlertStateReply AlertStateOf(string userId) =>
        _users.TryGetValue(userId, out var user) ? new UserAlertStateReply(userId, true, user.Alert) : new UserAlertStateReply(userId, false, UserAlertState.None);

    /// <summary>Replaces the users (from a snapshot).</summary>
    public void Restore(long eventsApplied, IReadOnlyDictionary<Stages.Sources.SourceStream, long> marks, IEnumerable<KeyValuePair<string, UserRecord>> users, IEnumerable<AlertRecord> undelivered)
    {
        _users.Clear();
        foreach (var (id, user) in users) _users[id] = user;
        Replays.Restore(marks);
        Alerts.Restore(undelivered);
        EventsApplied = eventsApplied;
    }

    private void Confirm(UserRecord user, long through)
    {
        if (through <= user.ScoredThrough) return;
        user.ScoredThrough = through;
        if (user.Tail is not null && !user.Tail.Confirm(through)) user.Tail = null;
    }

    /// <summary>
    /// A request for the user's oldest unscored events (at most <see cref="UserPartitionSettings.MaxRequestEvents"/>;
    /// the rest follow once it is settled), unless one is in flight (one at a time per user).
    /// </summary>
    private ScoringRequest? Issue(string userId, UserRecord user)
    {
        if (user.HasRequestInFlight || user.Tail is not { Count: > 0 } tail) return null;
        var ticket = new RequestTicket(_incarnation, ++_nextTicket);
        int count = Math.Min(tail.Count, _settings.MaxRequestEvents);
        long through = tail.FirstEventIndex - 1 + count;
        user.InFlight = ticket;
        user.IssuedThrough = through;
        var behavior = user.Behavior;
        var keys = tail.RequestKeys(count);
        long[]? admit = null;
        if (user.AdmitKeys is { Count: > 0 } pending)
        {
            // Keys to admit travel with the request that carries their events.
            var carried = new HashSet<long>(keys);
            admit = pending.Where(carried.Contains).ToArray();
            pending.RemoveAll(carried.Contains);
            if (pending.Count == 0) user.AdmitKeys = null;
        }
        return new ScoringRequest(userId, _partition, tail.RequestWindow(count), count, tail.RequestFeatures(count), behavior.ModelState,
            through, behavior.FirstEventMs, keys, user.Alert, ticket)
        {
            Labels = tail.RequestLabels(count),
            Devices = tail.RequestDevices(count),
            Ips = tail.RequestIps(count),
            ReceivedTicks = tail.FirstReceivedTicks,
            AdmitKeys = admit is { Length: > 0 } ? admit : null,
        };
    }

    /// <summary>
    /// The user's newest events come through another stream (a rebalance moved its source partition): the
    /// events the old stream delivered that are not in flight are scored by the new one, which must admit
    /// them; the old stream is told to stop waiting for them.
    /// </summary>
    private static void SwitchInbox(UserRecord user, IActorRef inbox, List<HandOver>? handOvers)
    {
        if (user.Inbox is { } old && user.Tail is { } tail)
        {
            long pendingFrom = user.HasRequestInFlight ? user.IssuedThrough + 1 : tail.FirstEventIndex;
            var keys = new List<long>();
            for (int i = 0; i < tail.Count; i++)
                if (tail.FirstEventIndex + i >= pendingFrom) keys.Add(tail.Keys[i]);
            if (keys.Count > 0)
            {
                handOvers?.Add(new HandOver(old, keys));
                (user.AdmitKeys ??= []).AddRange(keys);
            }
        }
        user.Inbox = inbox;
    }
}

/// <summary>What applying a row live needs beyond the row: when each event arrived, and the stream's scoring inbox.</summary>
public sealed record LiveRow(IReadOnlyList<long> ReceivedTicks, IActorRef? Inbox);

/// <summary>Events an old stream delivered that another stream now scores (see <see cref="HandedOver"/>).</summary>
public sealed record HandOver(IActorRef Inbox, List<long> Keys);
