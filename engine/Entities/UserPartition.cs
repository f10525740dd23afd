using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Failures;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// A sharded, persistent entity owning the state of every user whose id hashes to its partition
/// (<see cref="PartitionState"/>): behaviour, model state, alert state, scoring ledger. Glue only:
/// it persists, stashes while a snapshot is due, and answers the partition protocol
/// (<see cref="IPartitionMessage"/>).
/// <para>
/// Why partitions and not one actor per user: an idle persistent actor behind sharding costs ~4.8 KB
/// on its own (more than the 4 KiB per-user budget), and one journal row per user per batch would
/// make rows/s — the store's real limit — grow with the number of users. A partition persists each
/// incoming batch as one row and answers only after the row is written, so a source may acknowledge it.
/// </para>
/// <para>
/// Scoring: a user has at most one request in flight. The stream settles it (<see cref="SettleScoring"/>):
/// the partition journals the decided alerts before it answers (an alert leaves only once recorded here),
/// confirms the events as scored (journaled with the next row), and sends the user's events that arrived
/// meanwhile as the next request to the stream's inbox (<see cref="FollowUps"/>). After a crash, the
/// events never confirmed scored are scored again and the alerts never confirmed delivered are emitted
/// again, once.
/// </para>
/// </summary>
public sealed class UserPartition : ReceivePersistentActor, IWithTimers
{
    private sealed class FlushTick
    {
        public static readonly FlushTick Instance = new();
    }

    private sealed class OriginCheckTimeout
    {
        public static readonly OriginCheckTimeout Instance = new();
    }

    private sealed class RescoringProbe
    {
        public static readonly RescoringProbe Instance = new();
    }

    // The Identify a partition sends to its node's scoring inboxes when unscored events wait for the next stream that asks.
    private const string RescoringProbeId = "rescoring-probe";

    /// <summary>
    /// How long users' unscored events may wait for the next stream that asks (after a recovery, or when the stream
    /// that was to score them is gone and no live one is known) before the partition hands them to a live scoring
    /// stream on its own node, if there is one. A stream that starts asks at once (<see cref="TakeRescoring"/>), and a
    /// batch from any stream takes them too; this is for a partition no stream will ask again in this run (it
    /// recovered on a node after a hand-off, late in the run), whose events were otherwise left to the next run.
    /// </summary>
    public static readonly TimeSpan RescoringProbeAfter = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a recovered partition waits for the streams that had taken its undelivered alerts to answer an
    /// <see cref="Identify"/>: a stream on a node that died never does, and its alerts are handed out again after this.
    /// </summary>
    public static readonly TimeSpan OriginCheckWait = TimeSpan.FromSeconds(5);

    private readonly int _partition;
    private readonly UserPartitionSettings _settings;
    private readonly PartitionState _state;
    private readonly SnapshotSchedule _schedule;
    private readonly Stopwatch _recovery = Stopwatch.StartNew();
    private readonly string _store;
    // Who waits for each write in flight, in write order (null: nobody), so a failed write can fail their asks. The
    // answer's target, not the first sender: a batch sent again while it is written is answered to the last sender, and
    // so is its failure (the first sender's ask has timed out by then; told nothing, the stream would send the batch a
    // third time, to the next incarnation, and carry on as if nothing had failed).
    private readonly Queue<AnswerTo?> _waiting = new();
    // Batches being written, by their first event's position: a copy sent again (the stream resends a batch not
    // answered in time) is answered, to its sender, when the first write is done.
    private readonly Dictionary<SourcePosition, AnswerTo> _writingBatches = new();
    // The end-of-input close being written, if any: a close sent again meanwhile is answered by it.
    private AnswerTo? _writingClose;
    private long _rowsWritten, _eventsPersisted;
    private int _snapshots;
    // Sharding asked it to stop (StopPartition): it stops when its last write in flight is done.
    private bool _stopping;
    // Messages held back (stashed) for a due snapshot since it was last taken; when the snapshot lets them go they are
    // ahead of everything in the mailbox, and a stopping partition handles them before it stops.
    private int _held;
    private bool _released;
    private long _recoveryMs;
    // Who waits for the stats of a final flush until the end-of-stream snapshot is saved (or failed).
    private readonly List<IActorRef> _afterSnapshot = new();
    // The scoring inboxes of the streams this partition heard from, watched: when one is gone (its node left the cluster
    // or died), the requests it held and the events it admitted are issued again to a live one (PartitionState.StreamGone).
    private readonly List<IActorRef> _inboxes = new();
    // After a recovery: the streams (serialized inbox paths) that had taken undelivered alerts, until each answered an
    // Identify or OriginCheckWait passed; start-up asks for what is due (TakeRescoring) wait for them.
    private readonly HashSet<string> _originChecks = new(StringComparer.Ordinal);
    private readonly List<(IActorRef Sender, IActorRef? Inbox)> _rescoringAsks = new();

    /// <param name="store">Names the store in the failure a waiting ask gets when a write fails for good.</param>
    public UserPartition(int partition, UserPartitionSettings settings, string store = "the store")
    {
        _partition = partition;
        _store = store;
        _settings = settings;
        _state = new PartitionState(partition, settings, Random.Shared.NextInt64(1, long.MaxValue));
        _schedule = new SnapshotSchedule(settings.SnapshotEvery);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PartitionSnapshot snapshot)
            {
                snapshot.RestoreInto(_state, settings.WindowSize);
                _schedule.Taken();
            }
        });
        Recover<EventsPersisted>(row =>
        {
            _state.Apply(row, live: null, requests: null);
            _schedule.EventsApplied(row.Events.Count);
        });
        Recover<RecoveryCompleted>(_ =>
        {
            _recoveryMs = _recovery.ElapsedMilliseconds;
            _state.RecoveryCompleted();
            CheckOrigins(_state.OriginsToCheck);
            // Recovery may have replayed enough rows to make a snapshot due; nothing is in flight now, so take it
            // before anything waits for it.
            if (_schedule.CanTake) TakeSnapshot();
            if (_state.RescoringDue)
                Context.GetLogger().Info("partition {0}: {1} users have events persisted but not confirmed scored, {2} alerts were journaled but not delivered; they are handed to the next stream that asks",
                    _partition, _state.UsersAwaitingScoring, _state.Alerts.Count);
            ProbeForRescoringLater();
        });

        Command<StopPartition>(_ =>
        {
            _stopping = true;
            StopWhenNothingInFlight();
        });
        Command<Terminated>(OnStreamGone);
        Command<PartitionBatch>(OnBatch);
        Command<SettleScoring>(OnSettle);
        Command<CloseSessions>(OnCloseSessions);
        Command<AlertsDelivered>(delivered => _state.Alerts.Delivered(delivered.AlertIds));
        Command<FlushTick>(_ => Flush(null));
        Command<FlushScoredMarks>(_ => FlushAtEnd(Sender));
        Command<TakeRescoring>(take =>
        {
            WatchInbox(take.ScoringInbox);
            if (_originChecks.Count > 0) _rescoringAsks.Add((Sender, take.ScoringInbox));
            else Sender.Tell(RescoringReply(take.ScoringInbox, []));
        });
        Command<ActorIdentity>(identity =>
        {
            if (RescoringProbeId.Equals(identity.MessageId)) OnRescoringProbeAnswer(identity);
            else OnOriginIdentity(identity);
        });
        Command<RescoringProbe>(_ => ProbeForRescoring());
        Command<OriginCheckTimeout>(_ =>
        {
            foreach (string origin in _originChecks) OriginGone(origin);
            _originChecks.Clear();
            AnswerRescoringAsks();
        });
        Command<GetPartitionStats>(_ => Sender.Tell(Stats()));
        Command<GetUserStates>(_ => Sender.Tell(new UserStates(_partition, SerializeUsers())));
        Command<GetAlertState>(get => Sender.Tell(_state.AlertStateOf(get.UserId)));
        Command<SaveSnapshotSuccess>(success =>
        {
            // Rows and older snapshots covered by this snapshot are no longer needed. (A criteria with a maximum
            // sequence number of 0 means "no maximum" to some snapshot stores, the in-memory one included: the
            // snapshot just saved would go too.)
            DeleteMessages(success.Metadata.SequenceNr);
            if (success.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
            AnswerAfterSnapshot();
        });
        Command<SaveSnapshotFailure>(failure =>
        {
            Context.GetLogger().Warning("partition {0}: snapshot failed: {1}", _partition, failure.Cause.Message);
            AnswerAfterSnapshot();
        });
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
        Timers.StartPeriodicTimer("flush", FlushTick.Instance, _settings.ScoredMarksFlush);
    }

    public static string PersistenceIdOf(int partition) => $"user-partition-{partition}";

    public static Props Props(int partition, UserPartitionSettings settings, string store = "the store") =>
        Akka.Actor.Props.Create(() => new UserPartition(partition, settings, store));

    private void OnBatch(PartitionBatch batch)
    {
        if (_schedule.Due)
        {
            Hold();
            return;
        }
        WatchInbox(batch.ScoringInbox);
        var dropped = new List<long>();
        var index = new List<int>(batch.Events.Count);
        var fresh = _state.Accept(batch.Events, dropped, index);
        var sender = Sender;
        if (fresh.Count == 0)
        {
            if (batch.Events.Count > 0 && _writingBatches.TryGetValue(batch.Events[0].Position, out var resent))
                resent.Target = sender;
            else
                sender.Tell(RescoringReply(batch.ScoringInbox, dropped));
            return;
        }
        var answerTo = new AnswerTo(sender);
        var first = batch.Events[0].Position;
        _writingBatches[first] = answerTo;
        var received = new long[index.Count];
        for (int i = 0; i < received.Length; i++) received[i] = batch.Events[index[i]].ReceivedTicks;
        var row = new EventsPersisted(fresh, batch.AwaitScoring, _state.TakeMarks()) { Delivered = _state.Alerts.TakeDeliveries() };

        // PersistAsync: later batches of this partition are not stashed while this one is written, so
        // each partition keeps several writes in flight and the journal groups them into larger
        // transactions. Handlers still run in order, and the reply is sent only after the write.
        Write(row, answerTo, persisted =>
        {
            _writingBatches.Remove(first);
            _eventsPersisted += persisted.Events.Count;
            var requests = new List<ScoringRequest>();
            var handOvers = new List<HandOver>();
            int newUsers = _state.Apply(persisted, new LiveRow(received, batch.ScoringInbox), requests, handOvers);
            foreach (var h in handOvers) h.Inbox.Tell(new HandedOver(_partition, h.Keys));
            var undelivered = new List<AlertRecord>();
            if (_state.RescoringDue) _state.TakeRescoring(batch.ScoringInbox, requests, undelivered);
            bool snapshot = _schedule.CanTake;
            answerTo.Target.Tell(new PartitionReply(_partition, requests, persisted.Events.Count, dropped.Count, newUsers, snapshot)
            {
                DroppedKeys = dropped,
                UndeliveredAlerts = undelivered,
                MarkerKeys = _state.MarkerKeys.ToArray(),
                SessionsClosed = _state.SessionsClosed,
            });
        });
    }

    private void OnSettle(SettleScoring settle)
    {
        if (_schedule.Due)
        {
            Hold();
            return;
        }
        WatchInbox(settle.Origin);
        var stale = new List<RequestTicket>();
        var alerts = new List<AlertRecord>();
        var followUps = new Dictionary<IActorRef, List<ScoringRequest>>();
        int repeated = _state.Settle(settle, stale, alerts, followUps);
        foreach (var (inbox, requests) in followUps) inbox.Tell(new FollowUps(_partition, requests));
        var sender = Sender;
        if (alerts.Count == 0)
        {
            // A copy of a settlement sent again: answered once the rows in flight (the first copy's alerts among them) are written.
            if (repeated > 0 && _waiting.Count > 0) DeferAsync(settle, _ => sender.Tell(new ScoringSettled(_partition, stale)));
            else sender.Tell(new ScoringSettled(_partition, stale));
            return;
        }
        // The alerts are recorded before the stream may emit them, with the stream that will (after a recovery, they are
        // handed out again only if it is gone).
        string? origin = settle.Origin is { } o && !o.IsNobody() ? Akka.Serialization.Serialization.SerializedActorPath(o) : null;
        var row = ConfirmationsRow() with { Alerts = alerts, AlertsOrigin = origin };
        Write(row, new AnswerTo(sender), _ =>
        {
            if (origin is not null) _state.Alerts.OriginAlive(origin, settle.Origin!);
            sender.Tell(new ScoringSettled(_partition, stale));
        });
    }

    /// <summary>
    /// The input ended: every open session closes at the stream's watermark. The close is journaled (a row), so a
    /// recovery closes exactly these sessions again, and a rerun that reaches the end again finds none open.
    /// </summary>
    private void OnCloseSessions(CloseSessions close)
    {
        if (_schedule.Due)
        {
            Hold();
            return;
        }
        WatchInbox(close.ScoringInbox);
        var sender = Sender;
        if (_writingClose is not null)
        {
            _writingClose.Target = sender;
            return;
        }
        if (!_state.HasOpenSessions)
        {
            sender.Tell(RescoringReply(close.ScoringInbox, []));
            return;
        }
        var answerTo = _writingClose = new AnswerTo(sender);
        var row = new EventsPersisted([], close.AwaitScoring, _state.TakeMarks())
        {
            Delivered = _state.Alerts.TakeDeliveries(),
            SessionsClosedAtMs = close.WatermarkMs,
        };
        Write(row, answerTo, persisted =>
        {
            _writingClose = null;
            var requests = new List<ScoringRequest>();
            _state.Apply(persisted, new LiveRow([], close.ScoringInbox), requests);
            var undelivered = new List<AlertRecord>();
            if (_state.RescoringDue) _state.TakeRescoring(close.ScoringInbox, requests, undelivered);
            answerTo.Target.Tell(new PartitionReply(_partition, requests, 0, 0, 0, _schedule.CanTake)
            {
                UndeliveredAlerts = undelivered,
                MarkerKeys = _state.MarkerKeys.ToArray(),
                SessionsClosed = _state.SessionsClosed,
            });
        });
    }

    /// <summary>
    /// After a recovery: asks each stream that had taken undelivered alerts whether it is still there (an
    /// <see cref="Identify"/> to its inbox's path). Its alerts stay with it if it answers as the same actor (same uid);
    /// otherwise, or without an answer within <see cref="OriginCheckWait"/>, they are due to the next stream that asks.
    /// </summary>
    private void CheckOrigins(IReadOnlyList<string> origins)
    {
        foreach (string origin in origins)
        {
            if (!ActorPath.TryParse(origin, out var path))
            {
                OriginGone(origin);
                continue;
            }
            _originChecks.Add(origin);
            Context.ActorSelection(path.ToStringWithAddress()).Tell(new Identify(origin));
        }
        if (_originChecks.Count > 0) Timers.StartSingleTimer("origin-check", OriginCheckTimeout.Instance, OriginCheckWait);
    }

    private void OnOriginIdentity(ActorIdentity identity)
    {
        if (identity.MessageId is not string origin || !_originChecks.Remove(origin)) return;
        if (identity.Subject is { } stream && ActorPath.TryParse(origin, out var path) && stream.Path.Uid == path.Uid)
        {
            WatchInbox(stream);
            _state.Alerts.OriginAlive(origin, stream);
            Context.GetLogger().Info("partition {0}: the stream that had taken undelivered alerts ({1}) is alive; they stay with it", _partition, stream.Path);
        }
        else
        {
            OriginGone(origin);
        }
        if (_originChecks.Count > 0) return;
        Timers.Cancel("origin-check");
        AnswerRescoringAsks();
    }

    private void OriginGone(string origin)
    {
        int due = _state.Alerts.OriginGone(origin);
        if (due > 0)
            Context.GetLogger().Info("partition {0}: the stream that had taken {1} undelivered alerts is gone; they are handed to the next stream that asks", _partition, due);
    }

    private void AnswerRescoringAsks()
    {
        foreach (var (sender, inbox) in _rescoringAsks) sender.Tell(RescoringReply(inbox, []));
        _rescoringAsks.Clear();
    }

    /// <summary>Watches a stream's scoring inbox the first time the partition hears of it.</summary>
    private void WatchInbox(IActorRef? inbox)
    {
        if (inbox is null || inbox.IsNobody() || _inboxes.Contains(inbox)) return;
        _inboxes.Add(inbox);
        Context.Watch(inbox);
    }

    /// <summary>
    /// A stream's scoring inbox is gone (its node was downed or left): the requests it held and the unscored events it
    /// admitted would never be settled, and the streams that read later events of the same users would wait on them for
    /// ever. They are issued again, to a live inbox on this node if there is one (else another live one; with none, to
    /// the next stream that asks).
    /// </summary>
    private void OnStreamGone(Terminated terminated)
    {
        var gone = terminated.ActorRef;
        if (!_inboxes.Remove(gone)) return;
        var live = _inboxes.FirstOrDefault(i => i.Path.Address.HasLocalScope) ?? _inboxes.FirstOrDefault();
        var followUps = new Dictionary<IActorRef, List<ScoringRequest>>();
        int users = _state.StreamGone(gone, live, followUps);
        foreach (var (inbox, requests) in followUps) inbox.Tell(new FollowUps(_partition, requests));
        int alerts = _state.Alerts.StreamGone(gone);
        if (alerts > 0)
            Context.GetLogger().Info("partition {0}: scoring inbox {1} is gone with {2} alerts it had not confirmed delivered; they are handed to the next stream that asks",
                _partition, gone.Path, alerts);
        if (users > 0)
            Context.GetLogger().Info("partition {0}: scoring inbox {1} is gone; {2} of its users' unscored events issued again ({3} requests to {4})",
                _partition, gone.Path, users, followUps.Values.Sum(l => l.Count), live?.Path.ToString() ?? "the next stream that asks");
        ProbeForRescoringLater();
    }

    /// <summary>Arms the probe (<see cref="RescoringProbeAfter"/>) when unscored events wait for the next stream that asks.</summary>
    private void ProbeForRescoringLater()
    {
        if (_state.RequestsDue && !Timers.IsTimerActive("rescoring-probe"))
            Timers.StartSingleTimer("rescoring-probe", RescoringProbe.Instance, RescoringProbeAfter);
    }

    /// <summary>Still due: asks this node's scoring inboxes who is alive (a stream's inbox stops after its run's final flush); the first to answer takes them.</summary>
    private void ProbeForRescoring()
    {
        if (!_state.RequestsDue) return;
        if (_originChecks.Count > 0 || _rescoringAsks.Count > 0)
        {
            ProbeForRescoringLater(); // a start-up ask is being answered: it takes them
            return;
        }
        Context.ActorSelection("/user/scoring-inbox-*").Tell(new Identify(RescoringProbeId));
    }

    private void OnRescoringProbeAnswer(ActorIdentity identity)
    {
        if (identity.Subject is not { } inbox || !_state.RequestsDue) return;
        WatchInbox(inbox);
        var requests = new List<ScoringRequest>();
        _state.TakeDueRequests(inbox, requests);
        if (requests.Count == 0) return;
        inbox.Tell(new FollowUps(_partition, requests));
        Context.GetLogger().Info("partition {0}: no stream asked for {1} users' unscored events; handed to the live stream on this node ({2})",
            _partition, requests.Count, inbox.Path);
    }

    /// <summary>
    /// The final flush of a stream: with enough events since the last snapshot (<c>entities.snapshot-at-end</c>), a
    /// snapshot first (taken once no write is in flight, as any snapshot) and the answer once it is saved, so the
    /// next start recovers from it; otherwise a plain <see cref="Flush"/>.
    /// </summary>
    private void FlushAtEnd(IActorRef replyTo)
    {
        if (_settings.SnapshotAtEnd <= 0 || _schedule.EventsSinceSnapshot < _settings.SnapshotAtEnd)
        {
            Flush(replyTo);
            return;
        }
        _afterSnapshot.Add(replyTo);
        if (_schedule.Due) return; // a snapshot is on its way already
        _schedule.Request();
        if (_schedule.CanTake) TakeSnapshot();
    }

    /// <summary>The end-of-stream snapshot is saved (or failed: the journal still holds everything): the flushes waiting for it go on.</summary>
    private void AnswerAfterSnapshot()
    {
        if (_afterSnapshot.Count == 0) return;
        var waiting = _afterSnapshot.ToArray();
        _afterSnapshot.Clear();
        foreach (var replyTo in waiting) Flush(replyTo);
    }

    /// <summary>
    /// Journals confirmations and deliveries that found no row to travel with (no batch came for a while,
    /// or the run ends); answers <paramref name="replyTo"/> with the stats once they are written.
    /// </summary>
    private void Flush(IActorRef? replyTo)
    {
        if (_schedule.Due)
        {
            if (replyTo is not null) Hold(); // after the snapshot, which holds the confirmations anyway
            return;
        }
        if (!_state.HasMarksToJournal)
        {
            replyTo?.Tell(Stats());
            return;
        }
        Write(ConfirmationsRow(), replyTo is null ? null : new AnswerTo(replyTo), _ => replyTo?.Tell(Stats()));
    }

    /// <summary>A row of no events carrying the confirmations and deliveries not journaled yet (taken: forgotten here).</summary>
    private EventsPersisted ConfirmationsRow() => new([], true, _state.TakeMarks()) { Delivered = _state.Alerts.TakeDeliveries() };

    /// <summary>
    /// Persists a row; after its handler, a snapshot that became due is taken as soon as no write is in
    /// flight (new writes are held back meanwhile), whichever kind of write was the last.
    /// </summary>
    private void Write(EventsPersisted row, AnswerTo? waiting, Action<EventsPersisted> then)
    {
        _schedule.WriteStarted();
        _waiting.Enqueue(waiting);
        PersistAsync(row, persisted =>
        {
            _waiting.Dequeue();
            _schedule.WriteFinished();
            _rowsWritten++;
            // A row of events, or one closing the sessions, is applied live by its handler.
            if (persisted.Events.Count == 0 && persisted.SessionsClosedAtMs is null) _state.Apply(persisted, live: null, requests: null);
            _schedule.EventsApplied(persisted.Events.Count);
            then(persisted);
            if (_schedule.CanTake) TakeSnapshot();
            if (_stopping) StopWhenNothingInFlight();
        });
    }

    /// <summary>
    /// Stops once no row of this partition is being written (<see cref="StopPartition"/>). Messages that reach it
    /// meanwhile are handled as usual (their writes delay the stop), and so are those held back for a due snapshot:
    /// taking it lets them go, ahead of the mailbox, and the stop is checked again behind them. (It stopped at once,
    /// leaving them unanswered in its mailbox: their streams waited routing.resend-after to send them again.) Final
    /// flushes waiting for the snapshot to be saved are answered before it stops (the journal holds their rows).
    /// </summary>
    private void StopWhenNothingInFlight()
    {
        if (_waiting.Count > 0) return;
        if (_released)
        {
            _released = false;
            Self.Tell(StopPartition.Instance);
            return;
        }
        if (_afterSnapshot.Count > 0)
        {
            AnswerAfterSnapshot(); // their flushes may write: then the stop waits for those rows
            if (_waiting.Count > 0) return;
        }
        // Confirmations and deliveries not yet journaled are written first: dropped, the next incarnation would find
        // those events unconfirmed and score them again (or, with no stream left to ask, leave them unscored).
        if (_state.HasMarksToJournal)
        {
            Write(ConfirmationsRow(), null, _ => { });
            return;
        }
        // The next incarnation issues the unconfirmed events again: the streams that admitted those waiting here let them go.
        var releases = new Dictionary<IActorRef, List<long>>();
        _state.HandOff(releases);
        foreach (var (inbox, keys) in releases) inbox.Tell(new HandedOver(_partition, keys));
        Context.Stop(Self);
    }

    /// <summary>Who gets the answer to a write (or its failure): the sender, or whoever sent the same batch or close again meanwhile.</summary>
    private sealed class AnswerTo(IActorRef target)
    {
        public IActorRef Target { get; set; } = target;
    }

    /// <summary>1 once a partition of this process logged a write given up on.</summary>
    private static int _writeFailuresLogged;

    /// <summary>
    /// A write failed for good: the journal retried it through the outage until <c>streamdetect.store.retry.give-up-after</c>
    /// (or its circuit breaker gave up). Akka.Persistence stops the partition after this; whoever waits for one of
    /// its writes, or for a message held back behind them, gets the failure now (naming the store and the cause:
    /// the run stops with exit code 3) rather than an ask timeout. What the journal holds is recovered from by the
    /// next incarnation: a failed write may have been committed after all.
    /// </summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        var failure = cause as EnvironmentFailureException ?? new EnvironmentFailureException(FailedResource.Store,
            $"{_store}: journal write failed: {Persistence.StoreRetry.OneLine(cause)}", cause);
        // An outage fails every busy partition at once: the first says so, the others at debug level (the run's
        // error line names the store and the cause).
        var log = Context.GetLogger();
        if (Interlocked.Exchange(ref _writeFailuresLogged, 1) == 0)
            log.Warning("partition {0}: journal write {1} failed for good, stopping (other partitions failing the same way are logged at debug level): {2}", _partition, sequenceNr, failure.Message);
        else
            log.Debug("partition {0}: journal write {1} failed for good, stopping: {2}", _partition, sequenceNr, failure.Message);
        FailWaiting(failure);
    }

    /// <summary>The journal refused a row (it could not be serialized): the state already counts it, so the partition stops and recovers.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Context.GetLogger().Error(cause, "partition {0}: journal row {1} rejected, stopping", _partition, sequenceNr);
        FailWaiting(new EnvironmentFailureException(FailedResource.Store, $"{_store}: journal row {sequenceNr} of partition {_partition} rejected: {Persistence.StoreRetry.OneLine(cause)}", cause));
        Context.Stop(Self);
    }

    private void FailWaiting(EnvironmentFailureException failure)
    {
        var status = new Status.Failure(failure);
        var told = new HashSet<IActorRef>();
        while (_waiting.TryDequeue(out var waiting))
            if (waiting is not null && told.Add(waiting.Target)) waiting.Target.Tell(status);
        _held = 0;
        foreach (var held in Stash.ClearStash())
            if (!held.Sender.IsNobody() && !held.Sender.Equals(Context.System.DeadLetters) && told.Add(held.Sender)) held.Sender.Tell(status);
    }

    private void TakeSnapshot()
    {
        // Nothing is in flight: LastSequenceNr is the last row, and the state holds exactly the rows up to it.
        SaveSnapshot(PartitionSnapshot.Capture(_state));
        _schedule.Taken();
        _snapshots++;
        _released |= _stopping && _held > 0;
        _held = 0;
        Stash.UnstashAll();
    }

    /// <summary>Holds the current message back until the due snapshot is taken.</summary>
    private void Hold()
    {
        Stash.Stash();
        _held++;
    }

    /// <summary>An answer that persisted nothing: the replays dropped, and what is due from before a crash (usually nothing).</summary>
    private PartitionReply RescoringReply(IActorRef? inbox, List<long> dropped)
    {
        var requests = new List<ScoringRequest>();
        var undelivered = new List<AlertRecord>();
        if (_state.RescoringDue) _state.TakeRescoring(inbox, requests, undelivered);
        return new PartitionReply(_partition, requests, 0, dropped.Count, 0, false) { DroppedKeys = dropped, UndeliveredAlerts = undelivered };
    }

    private PartitionStats Stats() =>
        new(_partition, _state.Users.Count, _state.EventsApplied, _rowsWritten, _eventsPersisted, _state.Duplicates, _snapshots, _recoveryMs);

    private Dictionary<string, byte[]> SerializeUsers()
    {
        var result = new Dictionary<string, byte[]>(_state.Users.Count, StringComparer.Ordinal);
        foreach (var (user, record) in _state.Users)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer)) record.Behavior.WriteTo(writer);
            result[user] = buffer.ToArray();
        }
        return result;
    }
}
