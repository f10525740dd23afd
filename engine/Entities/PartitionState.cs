using Akka.Actor;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// The state of one user partition and every rule about it, without an actor: de-duplication of replayed
/// events, folding events into users, where their sessions end, the scoring ledger (which events are unscored,
/// one request in flight per user, settling), the alerts journaled but not yet delivered, and what a snapshot
/// holds. The
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
    private readonly SessionRule _sessions;
    // Users whose session may be open, by the time of their last event then id: the watermark closes them once it
    // passes last + gap. One entry per user (UserRecord.InIdleQueue); an entry whose user had events since is moved on.
    private readonly PriorityQueue<string, (long LastMs, string UserId)> _idle = new(IdleOrder.Instance);
    // Per applied row, scratch: the keys of the markers the sending stream admits, and the sessions closed.
    private readonly List<long> _markerKeys = [];
    private readonly List<KeyValuePair<string, UserRecord>> _closing = [];
    private readonly SpareScoringTails _spareTails;
    private int _sessionsClosed;
    private long _nextTicket;
    private bool _rescoreDue;

    /// <param name="incarnation">Distinguishes this incarnation's tickets from those of an earlier one (a random number per start).</param>
    public PartitionState(int partition, UserPartitionSettings settings, long incarnation)
    {
        _partition = partition;
        _settings = settings;
        _incarnation = incarnation == 0 ? 1 : incarnation;
        _sessions = new SessionRule(settings.Sessions);
        _spareTails = new SpareScoringTails(settings.WindowSize);
    }

    /// <summary>
    /// The partition's event-time watermark: the largest order key among the events it has folded (an order key
    /// is its source stream's event-time progress when the event was read). Sessions idle for longer than the gap
    /// at the watermark are closed. It only depends on the events the partition received and their order, so a
    /// replay (or a recovery from the journal) closes the same sessions at the same places.
    /// </summary>
    public long WatermarkMs { get; private set; } = long.MinValue;

    /// <summary>The session end markers the last applied row's users got that the sending stream admits (their order keys).</summary>
    public IReadOnlyList<long> MarkerKeys => _markerKeys;

    /// <summary>Sessions the last applied row closed.</summary>
    public int SessionsClosed => _sessionsClosed;

    /// <summary>Whether some user of the partition has an open session.</summary>
    public bool HasOpenSessions => _users.Values.Any(u => u.Behavior.SessionOpen);

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
        _markerKeys.Clear();
        _sessionsClosed = 0;
        for (int i = 0; i < row.Events.Count; i++)
        {
            var (e, position, _) = row.Events[i];
            long key = row.Events[i].Key;
            Replays.MarkApplied(position);
            if (!_users.TryGetValue(e.UserId, out var user))
            {
                user = new UserRecord(new UserBehaviorState(_settings.WindowSize));
                _users[e.UserId] = user;
                newUsers++;
            }
            // Sessions end (README "Sessions in the stream"): those the watermark leaves idle, this user's when the gap or the
            // session field closes it, and right after an end type (logout).
            AdvanceWatermark(key, row.AwaitingScoring, live);
            if (user.Behavior.ClosesSessionBefore(e, _sessions)) Close(e.UserId, user, key, row.AwaitingScoring, live);
            sbyte label = e.Label is int l ? (sbyte)l : (sbyte)-1;
            if (label > user.SessionLabel) user.SessionLabel = label;
            if (row.AwaitingScoring)
            {
                if (live?.Inbox is { } inbox && !Equals(user.Inbox, inbox)) SwitchInbox(user, inbox, handOvers);
                user.Tail ??= _spareTails.Take(user.Behavior.Window, user.Behavior.EntryCount + 1);
                user.Behavior.Apply(e);
                user.Tail.Add(user.Behavior, key, label, live?.ReceivedTicks[i] ?? 0, e.Device, e.Ip);
                if (live is not null && _touchedSet.Add(e.UserId)) _touched.Add(new(e.UserId, user));
            }
            else
            {
                // An ingest-only row: nothing will score these events (nor those before them).
                user.Behavior.Apply(e);
                user.Tail = null;
                user.ScoredThrough = user.Behavior.EntryCount;
            }
            if (_sessions.EndsSession(e.Type)) Close(e.UserId, user, key, row.AwaitingScoring, live);
            else if (!user.InIdleQueue)
            {
                _idle.Enqueue(e.UserId, (user.Behavior.LastEventMs, e.UserId));
                user.InIdleQueue = true;
            }
        }
        if (row.SessionsClosedAtMs is long end)
        {
            // The input ended: every open session closes, in user order.
            if (end > WatermarkMs) WatermarkMs = end;
            foreach (var (userId, user) in _users)
                if (user.Behavior.SessionOpen) _closing.Add(new(userId, user));
            _closing.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            foreach (var (userId, user) in _closing) Close(userId, user, end, row.AwaitingScoring, live);
            _closing.Clear();
        }
        foreach (var mark in row.Marks)
            if (_users.TryGetValue(mark.UserId, out var user)) Confirm(user, mark.ScoredThrough);
        foreach (var alert in row.Alerts)
        {
            if (_users.TryGetValue(alert.UserId, out var user) && alert.TimeMs >= user.Alert.LastAlertMs)
                user.Alert = user.Alert.WithAlert(alert.TimeMs, alert.AlertId);
            Alerts.Journaled(alert, row.AlertsOrigin);
        }
        Alerts.DeliveredRecovered(row.Delivered);
        EventsApplied += row.Events.Count;

        if (live is not null)
        {
            foreach (var (userId, user) in _touched)
                if (Issue(userId, user, live.Inbox) is { } request) requests!.Add(request);
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
    /// Returns how many were settled already (a copy of a settlement, sent again): neither stale nor settled twice; answer
    /// them once the first copy's alerts are journaled.
    /// </summary>
    public int Settle(SettleScoring settle, List<RequestTicket> stale, List<AlertRecord> alerts, Dictionary<IActorRef, List<ScoringRequest>> followUps)
    {
        int repeated = 0;
        foreach (var s in settle.Users)
        {
            if (!_users.TryGetValue(s.UserId, out var user) || user.InFlight != s.Ticket)
            {
                if (user is not null && s.Ticket != RequestTicket.None && user.LastSettled == s.Ticket) repeated++;
                else stale.Add(s.Ticket);
                continue;
            }
            user.InFlight = RequestTicket.None;
            user.InFlightInbox = null;
            user.LastSettled = s.Ticket;
            Confirm(user, s.ScoredThrough);
            _pendingMarks[s.UserId] = Math.Max(_pendingMarks.GetValueOrDefault(s.UserId), s.ScoredThrough);
            user.Alert = s.Alert;
            if (s.State is { } slot && slot.EventsFolded <= user.Behavior.EntryCount) user.Behavior.ModelState = slot;
            alerts.AddRange(s.Alerts);
            if ((user.Inbox ?? settle.Origin) is { } inbox && Issue(s.UserId, user, inbox) is { } next)
            {
                if (!followUps.TryGetValue(inbox, out var list)) followUps[inbox] = list = [];
                list.Add(next);
            }
        }
        // A stale settlement comes from a stream that scored an earlier incarnation's request: the events this one
        // recovered as unconfirmed are due, and that stream is alive (it waits for this answer), so it takes them now.
        // They waited for the next stream that asks, and at the end of a run (a partition handed off as its node left,
        // its requests in flight settled stale) none asked: they stayed for the next run.
        if (stale.Count > 0 && _rescoreDue && settle.Origin is { } origin && !origin.IsNobody())
        {
            if (!followUps.TryGetValue(origin, out var list)) followUps[origin] = list = [];
            TakeDueRequests(origin, list);
            if (list.Count == 0) followUps.Remove(origin);
        }
        return repeated;
    }

    /// <summary>Recovery is complete: what was persisted but never confirmed scored, and what was journaled but never delivered, is due once.</summary>
    public void RecoveryCompleted()
    {
        if (!_settings.RescoreAfterCrash)
        {
            foreach (var user in _users.Values)
            {
                user.Tail = null;
                user.ScoredThrough = user.Behavior.EntryCount;
            }
        }
        _rescoreDue = false;
        foreach (var user in _users.Values)
        {
            if (user.Tail is null) continue;
            _rescoreDue = true;
            // No live stream admitted these events: whichever stream gets their request first admits them (a fresh batch
            // from any stream may issue it before TakeRescoring does).
            user.AdmitKeys = [.. user.Tail.Keys];
        }
        OriginsToCheck = Alerts.Recovered();
    }

    /// <summary>
    /// After recovery: the streams (scoring inboxes, as serialized actor paths) that had taken undelivered alerts for
    /// delivery; each is looked up, and its alerts are handed out again only once it is known gone (<see cref="PendingAlerts"/>).
    /// </summary>
    public IReadOnlyList<string> OriginsToCheck { get; private set; } = [];

    /// <summary>Whether requests or alerts from before a crash wait to be handed out (<see cref="TakeRescoring"/>).</summary>
    public bool RescoringDue => _rescoreDue || Alerts.AnyDue;

    /// <summary>
    /// After recovery, once: a request for every user with unscored events (the receiving stream admits their
    /// keys), and the alerts journaled but never delivered. Empty afterwards.
    /// </summary>
    public void TakeRescoring(IActorRef? inbox, List<ScoringRequest> requests, List<AlertRecord> undelivered)
    {
        TakeDueRequests(inbox, requests);
        if (Alerts.AnyDue) undelivered.AddRange(Alerts.TakeDue(inbox));
    }

    /// <summary>Whether users' unscored events wait for the next stream that asks (after a recovery, or a stream gone with no live one known).</summary>
    public bool RequestsDue => _rescoreDue;

    /// <summary>The requests part of <see cref="TakeRescoring"/>: a request for every user with unscored events and none in flight, to <paramref name="inbox"/>.</summary>
    public void TakeDueRequests(IActorRef? inbox, List<ScoringRequest> requests)
    {
        if (!_rescoreDue) return;
        _rescoreDue = false;
        foreach (var (userId, user) in _users)
        {
            if (user.Tail is null || user.HasRequestInFlight) continue;
            user.Inbox ??= inbox;
            user.AdmitKeys = [.. user.Tail.Keys];
            if (Issue(userId, user, inbox) is { } request) requests.Add(request);
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
    public void Restore(long eventsApplied, IReadOnlyDictionary<Stages.Sources.SourceStream, long> marks, IEnumerable<KeyValuePair<string, UserRecord>> users,
        IReadOnlyList<AlertRecord> undelivered, IReadOnlyList<string?> origins, long watermarkMs = long.MinValue)
    {
        _users.Clear();
        _idle.Clear();
        foreach (var (id, user) in users)
        {
            _users[id] = user;
            user.InIdleQueue = user.Behavior.SessionOpen;
            if (user.InIdleQueue) _idle.Enqueue(id, (user.Behavior.LastEventMs, id));
        }
        Replays.Restore(marks);
        Alerts.Restore(undelivered, origins);
        EventsApplied = eventsApplied;
        WatermarkMs = watermarkMs;
    }

    /// <summary>
    /// Raises the watermark to <paramref name="key"/> and closes every open session idle at it (its last event more
    /// than the gap before), in (last event time, user) order, each end marker keyed by <paramref name="key"/>.
    /// </summary>
    private void AdvanceWatermark(long key, bool awaitingScoring, LiveRow? live)
    {
        if (key <= WatermarkMs) return;
        WatermarkMs = key;
        while (_idle.TryPeek(out _, out var entry) && _sessions.IsIdleAt(entry.LastMs, key))
        {
            _idle.Dequeue();
            var user = _users[entry.UserId];
            user.InIdleQueue = false;
            if (!user.Behavior.SessionOpen) continue;
            long last = user.Behavior.LastEventMs;
            if (_sessions.IsIdleAt(last, key))
            {
                _closing.Add(new(entry.UserId, user));
            }
            else
            {
                // Events came since the entry was queued: it waits for its newest one.
                _idle.Enqueue(entry.UserId, (last, entry.UserId));
                user.InIdleQueue = true;
            }
        }
        if (_closing.Count == 0) return;
        _closing.Sort(static (a, b) => a.Value.Behavior.LastEventMs != b.Value.Behavior.LastEventMs
            ? a.Value.Behavior.LastEventMs.CompareTo(b.Value.Behavior.LastEventMs)
            : string.CompareOrdinal(a.Key, b.Key));
        foreach (var (userId, user) in _closing) Close(userId, user, key, awaitingScoring, live);
        _closing.Clear();
    }

    /// <summary>
    /// Closes the user's open session: its end marker joins the user's window and, when a scorer will score it, the
    /// unscored entries (keyed by <paramref name="key"/>, labelled with the session's label, with the feature row as
    /// of the session's end), like an event. Live, the user gets a request, and the marker's key goes to the sending
    /// stream's ledger (<see cref="MarkerKeys"/>), or, when another stream scores the user, with its next request.
    /// </summary>
    private void Close(string userId, UserRecord user, long key, bool awaitingScoring, LiveRow? live)
    {
        if (!user.Behavior.SessionOpen) return;
        sbyte label = user.SessionLabel;
        user.SessionLabel = -1;
        _sessionsClosed++;
        if (!awaitingScoring)
        {
            user.Behavior.CloseSession();
            user.Tail = null;
            user.ScoredThrough = user.Behavior.EntryCount;
            return;
        }
        // Usually the user's events are all scored by now (a watermark close): the tail holds the marker alone.
        user.Tail ??= _spareTails.Take(user.Behavior.Window, user.Behavior.EntryCount + 1, expected: 1);
        user.Behavior.CloseSession();
        user.Tail.Add(user.Behavior, key, label, 0);
        if (live is null) return;
        if (live.Inbox is { } inbox) user.Inbox ??= inbox;
        if (user.Inbox is null || Equals(user.Inbox, live.Inbox)) _markerKeys.Add(key);
        else (user.AdmitKeys ??= []).Add(key);
        if (_touchedSet.Add(userId)) _touched.Add(new(userId, user));
    }

    /// <summary>Open sessions by the time of their last event, then user id (ordinal).</summary>
    private sealed class IdleOrder : IComparer<(long LastMs, string UserId)>
    {
        public static readonly IdleOrder Instance = new();

        public int Compare((long LastMs, string UserId) x, (long LastMs, string UserId) y) =>
            x.LastMs != y.LastMs ? x.LastMs.CompareTo(y.LastMs) : string.CompareOrdinal(x.UserId, y.UserId);
    }

    private void Confirm(UserRecord user, long through)
    {
        if (through <= user.ScoredThrough) return;
        user.ScoredThrough = through;
        if (user.Tail is not null && !user.Tail.Confirm(through))
        {
            _spareTails.Give(user.Tail);
            user.Tail = null;
        }
    }

    /// <summary>
    /// A request for the user's oldest unscored events (at most <see cref="UserPartitionSettings.MaxRequestEvents"/>;
    /// the rest follow once it is settled), unless one is in flight (one at a time per user).
    /// </summary>
    /// <param name="to">The scoring inbox the request goes to (remembered: when that stream is gone, the request is issued again).</param>
    private ScoringRequest? Issue(string userId, UserRecord user, IActorRef? to)
    {
        if (user.HasRequestInFlight || user.Tail is not { Count: > 0 } tail) return null;
        var ticket = new RequestTicket(_incarnation, ++_nextTicket);
        int count = Math.Min(tail.Count, _settings.MaxRequestEvents);
        long through = tail.FirstEventIndex - 1 + count;
        user.InFlight = ticket;
        user.InFlightInbox = to;
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
        var window = tail.RequestWindow(count);
        var features = tail.RequestFeatures(count);
        var labels = tail.RequestLabels(count);
        var devices = tail.RequestDevices(count);
        var ips = tail.RequestIps(count);
        return new ScoringRequest(userId, _partition, window, count, features, behavior.ModelState,
            through, behavior.FirstEventMs, keys, user.Alert, ticket)
        {
            Labels = labels,
            Devices = devices,
            Ips = ips,
            ReceivedTicks = tail.FirstReceivedTicks,
            Pooled = new ScoringRequestArrays(window, features, keys, labels, devices, ips),
            AdmitKeys = admit is { Length: > 0 } ? admit : null,
        };
    }

    /// <summary>
    /// The partition stops (a rebalance hands it over, or it is passivated): its next incarnation recovers every
    /// unconfirmed event and issues it again, its keys to be admitted by whichever stream gets it (<see cref="RecoveryCompleted"/>).
    /// The events a live stream admitted that wait here behind a request in flight (or without one) would then be counted
    /// twice by that stream and never settled once: they are released here, per user inbox, in
    /// <paramref name="releases"/> (sent as <see cref="HandedOver"/>). Events in flight are not: the stream settles
    /// them with the next incarnation, which finds them stale. Keys an inbox has yet to admit (<see cref="UserRecord.AdmitKeys"/>) are not its to release.
    /// </summary>
    public void HandOff(Dictionary<IActorRef, List<long>> releases)
    {
        foreach (var user in _users.Values)
        {
            if (user.Tail is not { } tail || user.Inbox is not { } inbox) continue;
            var admitted = Without(WaitingKeys(user, tail), user.AdmitKeys);
            if (admitted.Count == 0) continue;
            if (!releases.TryGetValue(inbox, out var keys)) releases[inbox] = keys = [];
            keys.AddRange(admitted);
        }
    }

    /// <summary>
    /// The stream behind scoring inbox <paramref name="gone"/> is gone (its node left the cluster or died: the partition
    /// watches every inbox it hands requests to). Nothing it was given will be settled, and the events it admitted are
    /// no live stream's: per user, the request in flight to it is forgotten (a late settlement of its ticket is stale),
    /// and the user's unscored events it delivered (or was to admit) are issued again, the keys no live stream admitted
    /// travelling with them (<see cref="ScoringRequest.AdmitKeys"/>): to the user's inbox when that one lives, otherwise
    /// to <paramref name="live"/>, a live stream's inbox (the caller prefers one on this node). With no live inbox known
    /// they wait for the next stream that asks (<see cref="TakeRescoring"/>). Requests to send go to
    /// <paramref name="followUps"/> by inbox. Returns how many users had unscored events (or a request in flight) there.
    /// </summary>
    public int StreamGone(IActorRef gone, IActorRef? live, Dictionary<IActorRef, List<ScoringRequest>> followUps)
    {
        int affected = 0;
        foreach (var (userId, user) in _users)
        {
            bool inFlightLost = user.HasRequestInFlight && Equals(user.InFlightInbox, gone);
            bool inboxLost = Equals(user.Inbox, gone);
            if (!inFlightLost && !inboxLost) continue;
            if (inFlightLost || user.Tail is { Count: > 0 }) affected++; // a user with everything scored only forgets the inbox
            if (user.Tail is { } tail)
            {
                // Tail entries up to IssuedThrough are those of the request in flight; the rest were delivered by (or
                // handed to) the user's inbox.
                long restFrom = user.HasRequestInFlight ? user.IssuedThrough + 1 : tail.FirstEventIndex;
                var admit = new List<long>();
                for (int i = 0; i < tail.Count; i++)
                {
                    bool inRest = tail.FirstEventIndex + i >= restFrom;
                    if (inRest ? inboxLost : inFlightLost) admit.Add(tail.Keys[i]);
                }
                if (!inboxLost && user.AdmitKeys is { } pending) admit.AddRange(pending); // still the live inbox's to admit
                user.AdmitKeys = admit.Count > 0 ? admit : null;
            }
            else if (inboxLost)
            {
                user.AdmitKeys = null;
            }
            if (inFlightLost)
            {
                user.InFlight = RequestTicket.None;
                user.InFlightInbox = null;
            }
            if (inboxLost) user.Inbox = live;
            if (user.Inbox is not { } to)
            {
                if (user.Tail is not null && !user.HasRequestInFlight) _rescoreDue = true;
                continue;
            }
            if (Issue(userId, user, to) is { } request)
            {
                if (!followUps.TryGetValue(to, out var list)) followUps[to] = list = [];
                list.Add(request);
            }
        }
        return affected;
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
            // The waiting keys the old stream admitted are released there; those it was still to admit never were. The new
            // stream admits all of them.
            var waiting = WaitingKeys(user, tail);
            var admitted = Without(waiting, user.AdmitKeys);
            if (admitted.Count > 0) handOvers?.Add(new HandOver(old, admitted));
            user.AdmitKeys = waiting.Count > 0 ? waiting : null;
        }
        user.Inbox = inbox;
    }

    /// <summary>The keys of the user's unscored events that are not in the request in flight (all of them when none is), oldest first.</summary>
    private static List<long> WaitingKeys(UserRecord user, ScoringTail tail)
    {
        long from = user.HasRequestInFlight ? user.IssuedThrough + 1 : tail.FirstEventIndex;
        var keys = new List<long>();
        for (int i = 0; i < tail.Count; i++)
            if (tail.FirstEventIndex + i >= from) keys.Add(tail.Keys[i]);
        return keys;
    }

    /// <summary><paramref name="keys"/> less one occurrence of each of <paramref name="less"/> (order keys repeat: counts matter).</summary>
    private static List<long> Without(List<long> keys, List<long>? less)
    {
        if (less is not { Count: > 0 }) return [.. keys];
        var counts = new Dictionary<long, int>();
        foreach (long key in less) counts[key] = counts.GetValueOrDefault(key) + 1;
        var result = new List<long>(keys.Count);
        foreach (long key in keys)
        {
            if (counts.TryGetValue(key, out int n) && n > 0) counts[key] = n - 1;
            else result.Add(key);
        }
        return result;
    }
}

/// <summary>What applying a row live needs beyond the row: when each event arrived, and the stream's scoring inbox.</summary>
public sealed record LiveRow(IReadOnlyList<long> ReceivedTicks, IActorRef? Inbox);

/// <summary>Events an old stream delivered that another stream now scores (see <see cref="HandedOver"/>).</summary>
public sealed record HandOver(IActorRef Inbox, List<long> Keys);
