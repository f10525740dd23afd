using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// A sharded, persistent entity owning the state of every user whose id hashes to its partition.
/// <para>
/// Why partitions and not one actor per user: an idle persistent actor behind sharding costs ~4.8 KB
/// on its own (more than the 4 KiB per-user budget), and one journal row per user per batch would
/// make rows/s — the store's real limit — grow with the number of users. A partition persists each
/// incoming batch as one row, keeps each user's <see cref="UserBehaviorState"/> (~2 KB) in a
/// dictionary, and answers only after the row is written, so a source may acknowledge the batch.
/// </para>
/// Replayed events (at or below the source mark of their source partition) are dropped, so a source
/// that re-delivers after a crash never has an event counted twice.
/// <para>
/// Scoring is confirmed back (<see cref="ModelStateUpdate.ScoredThrough"/>) and journaled with the next
/// row, so after a crash the users whose persisted events were never confirmed scored are scored again:
/// the partition adds their requests to its first answer after recovery.
/// </para>
/// </summary>
public sealed class UserPartition : ReceivePersistentActor, IWithTimers
{
    private sealed class ScoredMarksTick
    {
        public static readonly ScoredMarksTick Instance = new();
    }

    private readonly int _partition;
    private readonly UserPartitionSettings _settings;
    private readonly Dictionary<string, UserBehaviorState> _users = new(StringComparer.Ordinal);
    private readonly Stopwatch _recovery = Stopwatch.StartNew();
    // Per-batch scratch, reused: the users a batch touched (in first-seen order) with their new-event
    // count, max label and earliest receive time.
    private readonly Dictionary<string, int> _touchedIndex = new(StringComparer.Ordinal);
    private readonly List<Touched> _touched = new();
    // Marks of events accepted for persistence (de-duplicates replays while writes are in flight)...
    private SourceMarks _acceptedMarks = new();
    // ...and of events persisted and applied (what a snapshot may claim).
    private SourceMarks _marks = new();
    private long _eventsApplied;
    private long _sinceSnapshot;
    // A snapshot is due: new batches wait (stashed) until the writes in flight are done, so the snapshot
    // is taken at a sequence number that covers exactly the events in it.
    private bool _snapshotDue;
    private int _writesInFlight;
    private long _rowsWritten, _eventsPersisted, _duplicates;
    private int _snapshots;
    private long _recoveryMs;
    // Users whose persisted events are not all confirmed scored -> the event count they are scored through.
    private readonly Dictionary<string, long> _scoredThrough = new(StringComparer.Ordinal);
    // Confirmations not journaled yet (they go with the next row).
    private readonly Dictionary<string, long> _pendingMarks = new(StringComparer.Ordinal);
    // After recovery: users to score again with the first answer.
    private HashSet<string>? _rescore;

    public UserPartition(int partition, UserPartitionSettings settings)
    {
        _partition = partition;
        _settings = settings;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PartitionSnapshot snapshot) Restore(snapshot);
        });
        Recover<EventsPersisted>(persisted => Apply(persisted, requests: null, receivedTicks: null));
        Recover<RecoveryCompleted>(_ =>
        {
            _recoveryMs = _recovery.ElapsedMilliseconds;
            if (_settings.RescoreAfterCrash && _scoredThrough.Count > 0)
            {
                _rescore = new HashSet<string>(_scoredThrough.Keys, StringComparer.Ordinal);
                Context.GetLogger().Info("partition {0}: {1} users have events persisted but not confirmed scored; they are scored again with the next batch",
                    _partition, _rescore.Count);
            }
        });

        Command<PartitionBatch>(OnBatch);
        Command<ModelStateUpdate>(OnModelState);
        Command<ScoredMarksTick>(_ => OnFlushScoredMarks(null));
        Command<FlushScoredMarks>(_ => OnFlushScoredMarks(Sender));
        Command<TakeRescoring>(_ => Sender.Tell(RescoringReply(duplicates: 0)));
        Command<GetPartitionStats>(_ => Sender.Tell(Stats()));
        Command<GetUserStates>(_ => Sender.Tell(new UserStates(_partition, SerializeUsers())));
        Command<GetUserWindow>(get => Sender.Tell(_users.TryGetValue(get.UserId, out var user)
            ? new UserWindow(get.UserId, user.Window.ToArray(), user.EventCount)
            : new UserWindow(get.UserId, [], 0)));
        Command<SaveSnapshotSuccess>(success =>
        {
            // Rows and older snapshots covered by this snapshot are no longer needed.
            DeleteMessages(success.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(failure =>
            Context.GetLogger().Warning("partition {0}: snapshot failed: {1}", _partition, failure.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure =>
            Context.GetLogger().Warning("partition {0}: deleting old journal rows failed: {1}", _partition, failure.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public override string PersistenceId => PersistenceIdOf(_partition);

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        base.PreStart();
        if (_settings.RescoreAfterCrash)
            Timers.StartPeriodicTimer("scored-marks", ScoredMarksTick.Instance, _settings.ScoredMarksFlush);
    }

    public static string PersistenceIdOf(int partition) => $"user-partition-{partition}";

    public static Props Props(int partition, UserPartitionSettings settings) =>
        Akka.Actor.Props.Create(() => new UserPartition(partition, settings));

    private void OnBatch(PartitionBatch batch)
    {
        if (_snapshotDue)
        {
            Stash.Stash();
            return;
        }
        var fresh = new List<PersistedEvent>(batch.Events.Count);
        var receivedTicks = new List<long>(batch.Events.Count);
        int duplicates = 0;
        foreach (var e in batch.Events)
        {
            if (_acceptedMarks.IsReplay(e.Position))
            {
                duplicates++;
                continue;
            }
            _acceptedMarks.Advance(e.Position);
            fresh.Add(new PersistedEvent(e.Event, e.Position));
            receivedTicks.Add(e.ReceivedTicks);
        }
        _duplicates += duplicates;

        var sender = Sender;
        if (fresh.Count == 0)
        {
            sender.Tell(RescoringReply(duplicates));
            return;
        }

        // PersistAsync: later batches of this partition are not stashed while this one is written, so
        // each partition keeps several writes in flight and the journal groups them into larger
        // transactions. Handlers still run in order, and the reply is sent only after the write.
        _writesInFlight++;
        PersistAsync(new EventsPersisted(fresh, _settings.RescoreAfterCrash, TakePendingMarks()), persisted =>
        {
            _writesInFlight--;
            _rowsWritten++;
            _eventsPersisted += persisted.Events.Count;
            var requests = new List<ScoringRequest>();
            int newUsers = Apply(persisted, requests, receivedTicks);
            AddRescoring(requests);
            if (_sinceSnapshot >= _settings.SnapshotEvery) _snapshotDue = true;
            bool snapshot = _snapshotDue && _writesInFlight == 0;
            if (snapshot)
            {
                // Nothing is in flight: LastSequenceNr is this row, and the state holds exactly the rows up to it.
                SaveSnapshot(PartitionSnapshot.Capture(_eventsApplied, _marks.ToDictionary(), _users) with
                {
                    ScoredThrough = new Dictionary<string, long>(_scoredThrough, StringComparer.Ordinal),
                });
                _sinceSnapshot = 0;
                _snapshots++;
                _snapshotDue = false;
                Stash.UnstashAll();
            }
            sender.Tell(new PartitionReply(_partition, requests, persisted.Events.Count, duplicates, newUsers, snapshot));
        });
    }

    /// <summary>
    /// Keeps a user's model state unless the entity already holds a later one of the same model. Not
    /// journaled (it is derived from events and rebuilt from the window when lost); snapshots keep it.
    /// </summary>
    private void OnModelState(ModelStateUpdate update)
    {
        if (!_users.TryGetValue(update.UserId, out var state)) return;
        if (update.ScoredThrough > 0 && update.ScoredThrough <= state.EventCount && _scoredThrough.ContainsKey(update.UserId))
        {
            ApplyMark(update.UserId, update.ScoredThrough);
            _pendingMarks[update.UserId] = Math.Max(_pendingMarks.GetValueOrDefault(update.UserId), update.ScoredThrough);
        }
        if (update.Slot is not { } slot) return;
        var current = state.ModelState;
        if (current is not null && current.ModelKey == slot.ModelKey && current.EventsFolded >= slot.EventsFolded) return;
        if (slot.EventsFolded > state.EventCount) return; // from a future this entity has not persisted
        state.ModelState = slot;
    }

    /// <summary>
    /// Journals scoring confirmations that found no row to travel with (no batch came for a while, or
    /// the run ends); answers <paramref name="replyTo"/> with the stats once they are written.
    /// </summary>
    private void OnFlushScoredMarks(IActorRef? replyTo)
    {
        if (_snapshotDue && replyTo is not null)
        {
            Stash.Stash(); // after the snapshot, which holds the confirmations anyway
            return;
        }
        if (_pendingMarks.Count == 0 || _snapshotDue)
        {
            replyTo?.Tell(Stats());
            return;
        }
        _writesInFlight++;
        PersistAsync(new EventsPersisted([], true, TakePendingMarks()), _ =>
        {
            _writesInFlight--;
            _rowsWritten++;
            replyTo?.Tell(Stats());
        });
    }

    private List<ScoredMark>? TakePendingMarks()
    {
        if (_pendingMarks.Count == 0) return null;
        var marks = _pendingMarks.Select(p => new ScoredMark(p.Key, p.Value)).ToList();
        _pendingMarks.Clear();
        return marks;
    }

    /// <summary>The user's events are scored through <paramref name="through"/>; a user scored through all of them leaves the map.</summary>
    private void ApplyMark(string userId, long through)
    {
        if (!_scoredThrough.TryGetValue(userId, out long current) || through <= current) return;
        if (_users.TryGetValue(userId, out var state) && through >= state.EventCount) _scoredThrough.Remove(userId);
        else _scoredThrough[userId] = through;
    }

    /// <summary>An answer that persisted nothing: only the rescoring requests still due (usually none).</summary>
    private PartitionReply RescoringReply(int duplicates)
    {
        var requests = new List<ScoringRequest>();
        AddRescoring(requests);
        return new PartitionReply(_partition, requests, 0, duplicates, 0, false);
    }

    /// <summary>
    /// After recovery: one request per user whose events were persisted but not confirmed scored, with the
    /// whole window (the model state may be behind) and the unconfirmed events as new. Once.
    /// </summary>
    private void AddRescoring(List<ScoringRequest> requests)
    {
        if (_rescore is null) return;
        foreach (string userId in _rescore)
        {
            if (!_users.TryGetValue(userId, out var state) || !_scoredThrough.TryGetValue(userId, out long through)) continue;
            int newEvents = (int)Math.Min(state.EventCount - through, state.Window.Count);
            if (newEvents <= 0) continue;
            var request = new ScoringRequest(userId, _partition, state.Window.ToArray(), newEvents, state.Features(),
                state.ModelState, state.EventCount, state.FirstEventMs);
            // A user with new events in this batch already has a request: it grows to cover the unconfirmed ones.
            int existing = requests.FindIndex(r => r.UserId == userId);
            if (existing >= 0) requests[existing] = request with { Label = requests[existing].Label, ReceivedTicks = requests[existing].ReceivedTicks };
            else requests.Add(request);
        }
        _rescore = null;
    }

    /// <summary>
    /// Folds persisted events into the users' states (live and during recovery alike). When
    /// <paramref name="requests"/> is given, adds one scoring request per user with new events.
    /// Returns how many users were seen for the first time.
    /// </summary>
    private int Apply(EventsPersisted persisted, List<ScoringRequest>? requests, List<long>? receivedTicks)
    {
        int newUsers = 0;
        bool track = requests is not null;
        for (int i = 0; i < persisted.Events.Count; i++)
        {
            var (e, position) = persisted.Events[i];
            _marks.Advance(position);
            _acceptedMarks.Advance(position);
            if (!_users.TryGetValue(e.UserId, out var state))
            {
                state = new UserBehaviorState(_settings.WindowSize);
                _users[e.UserId] = state;
                newUsers++;
            }
            if (persisted.AwaitingScoring) _scoredThrough.TryAdd(e.UserId, state.EventCount);
            state.Apply(e);
            if (track) Track(e.UserId, state, e.Label, receivedTicks![i]);
        }
        foreach (var mark in persisted.Marks) ApplyMark(mark.UserId, mark.ScoredThrough);
        _eventsApplied += persisted.Events.Count;
        _sinceSnapshot += persisted.Events.Count;

        if (track)
        {
            foreach (var t in _touched)
            {
                var state = t.State;
                int newEvents = Math.Min(t.Count, state.Window.Count);
                requests!.Add(new ScoringRequest(
                    t.UserId, _partition, RequestWindow(state, newEvents), newEvents, state.Features(),
                    state.ModelState, state.EventCount, state.FirstEventMs)
                {
                    Label = t.Label,
                    ReceivedTicks = t.ReceivedTicks,
                });
            }
            _touched.Clear();
            _touchedIndex.Clear();
        }
        return newUsers;
    }

    private void Track(string userId, UserBehaviorState state, int? label, long receivedTicks)
    {
        if (_touchedIndex.TryGetValue(userId, out int index))
        {
            var t = _touched[index];
            int? merged = t.Label is null ? label : label is null ? t.Label : Math.Max(t.Label.Value, label.Value);
            _touched[index] = t with { Count = t.Count + 1, Label = merged };
        }
        else
        {
            _touchedIndex[userId] = _touched.Count;
            _touched.Add(new Touched(userId, state, 1, label, receivedTicks));
        }
    }

    /// <summary>
    /// The events a scoring request carries: when the user's model state has folded everything before
    /// the new events, only the new ones and the one event before them (the first new event's time gap
    /// and item relation are read against it, exactly as in training and in a rebuilt state); otherwise
    /// the whole window so the model can rebuild its state (first events, after a restart, after a
    /// model change).
    /// </summary>
    private WindowEntry[] RequestWindow(UserBehaviorState state, int newEvents)
    {
        bool stateIsCurrent = _settings.RequestWindow == "auto"
            && state.ModelState is { } slot
            && slot.EventsFolded == state.EventCount - newEvents;
        if (!stateIsCurrent) return state.Window.ToArray();
        int count = Math.Min(state.Window.Count, newEvents + 1);
        var entries = new WindowEntry[count];
        int offset = state.Window.Count - count;
        for (int i = 0; i < count; i++) entries[i] = state.Window[offset + i];
        return entries;
    }

    private readonly record struct Touched(string UserId, UserBehaviorState State, int Count, int? Label, long ReceivedTicks);

    private void Restore(PartitionSnapshot snapshot)
    {
        _users.Clear();
        foreach (var (user, state) in snapshot.Users()) _users[user] = state;
        _marks = new SourceMarks(snapshot.SourceMarks);
        _acceptedMarks = new SourceMarks(snapshot.SourceMarks);
        _eventsApplied = snapshot.EventsApplied;
        _sinceSnapshot = 0;
        _scoredThrough.Clear();
        foreach (var (user, through) in snapshot.ScoredThrough) _scoredThrough[user] = through;
    }

    private PartitionStats Stats() =>
        new(_partition, _users.Count, _eventsApplied, _rowsWritten, _eventsPersisted, _duplicates, _snapshots, _recoveryMs);

    private Dictionary<string, byte[]> SerializeUsers()
    {
        var result = new Dictionary<string, byte[]>(_users.Count, StringComparer.Ordinal);
        foreach (var (user, state) in _users)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer)) state.WriteTo(writer);
            result[user] = buffer.ToArray();
        }
        return result;
    }
}
