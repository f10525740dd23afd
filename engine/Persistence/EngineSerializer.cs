using Akka.Actor;
using Akka.Serialization;
using StreamDetect.Engine.Entities;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Akka serializer for everything StreamDetect persists — journal rows (<see cref="EventsPersisted"/>)
/// and partition snapshots — and for the partition protocol's messages that cross nodes
/// (<see cref="IPartitionProtocol"/>, <see cref="WireCodec"/>). Explicit binary layouts with versions
/// (never reflection JSON of internal types), so state written by this version is read by the next.
/// Bound in hocon/streamdetect.conf to the journal types and to <see cref="IPartitionProtocol"/> once.
/// </summary>
public sealed class EngineSerializer : SerializerWithStringManifest
{
    private const string EventsV1Manifest = "E1"; // events only (read: rows written before scoring marks)
    private const string EventsV2Manifest = "E2"; // events and scoring marks (read)
    private const string EventsV3Manifest = "E3"; // events with order keys, marks, alerts, deliveries (read)
    private const string EventsV4Manifest = "E4"; // as E3, and the end-of-input session close (read)
    private const string EventsManifest = "E5";   // as E4, and the stream that settled the row's alerts
    private const string SnapshotManifest = "S1";
    private const string BatchManifest = "PB2";
    private const string ReplyV2Manifest = "PR2";
    private const string ReplyManifest = "PR3";
    private const string CloseSessionsManifest = "CS1";
    private const string SettleManifest = "SS1";
    private const string SettledManifest = "SD1";
    private const string FollowUpsManifest = "FU1";
    private const string HandedOverManifest = "HO1";
    private const string DeliveredManifest = "AD1";
    private const string GetAlertStateManifest = "GA1";
    private const string AlertStateManifest = "UA1";
    private const string GetStatsManifest = "GS1";
    private const string StatsManifest = "ST1";
    private const string GetUserStatesManifest = "GU1";
    private const string UserStatesManifest = "US1";
    private const string TakeRescoringManifest = "TR2";
    private const string FlushScoredMarksManifest = "FM1";

    private readonly ExtendedActorSystem _system;

    public EngineSerializer(ExtendedActorSystem system) : base(system)
    {
        _system = system;
    }

    public override int Identifier => 742_001;

    public override string Manifest(object o) => o switch
    {
        EventsPersisted => EventsManifest,
        PartitionSnapshot => SnapshotManifest,
        PartitionBatch => BatchManifest,
        PartitionReply => ReplyManifest,
        SettleScoring => SettleManifest,
        ScoringSettled => SettledManifest,
        FollowUps => FollowUpsManifest,
        HandedOver => HandedOverManifest,
        AlertsDelivered => DeliveredManifest,
        GetAlertState => GetAlertStateManifest,
        UserAlertStateReply => AlertStateManifest,
        GetPartitionStats => GetStatsManifest,
        PartitionStats => StatsManifest,
        GetUserStates => GetUserStatesManifest,
        UserStates => UserStatesManifest,
        TakeRescoring => TakeRescoringManifest,
        FlushScoredMarks => FlushScoredMarksManifest,
        CloseSessions => CloseSessionsManifest,
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(EngineSerializer)}"),
    };

    // One reusable buffer per thread: serializing a journal row then costs one array (the result).
    [ThreadStatic]
    private static MemoryStream? t_buffer;

    public override byte[] ToBinary(object obj)
    {
        var buffer = t_buffer ??= new MemoryStream(4096);
        buffer.SetLength(0);
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            switch (obj)
            {
                case EventsPersisted events:
                    WriteEvents(w, events);
                    break;
                case PartitionSnapshot snapshot:
                    WriteSnapshot(w, snapshot);
                    break;
                case PartitionBatch batch:
                    WireCodec.WriteBatch(w, batch);
                    break;
                case PartitionReply reply:
                    WireCodec.WriteReply(w, reply);
                    break;
                case SettleScoring settle:
                    WireCodec.WriteSettle(w, settle);
                    break;
                case ScoringSettled settled:
                    WireCodec.WriteSettled(w, settled);
                    break;
                case FollowUps followUps:
                    w.Write(followUps.Partition);
                    WireCodec.WriteRequests(w, followUps.Requests);
                    break;
                case HandedOver handed:
                    w.Write(handed.Partition);
                    StateCodec.WriteLongs(w, handed.Keys.ToArray());
                    break;
                case AlertsDelivered delivered:
                    w.Write(delivered.Partition);
                    StateCodec.WriteStrings(w, delivered.AlertIds.ToArray());
                    break;
                case GetAlertState get:
                    w.Write(get.Partition);
                    w.Write(get.UserId);
                    break;
                case UserAlertStateReply state:
                    w.Write(state.UserId);
                    w.Write(state.Known);
                    StateCodec.WriteAlertState(w, state.State);
                    break;
                case GetPartitionStats get:
                    w.Write(get.Partition);
                    break;
                case PartitionStats stats:
                    WireCodec.WriteStats(w, stats);
                    break;
                case GetUserStates get:
                    w.Write(get.Partition);
                    break;
                case UserStates states:
                    WireCodec.WriteUserStates(w, states);
                    break;
                case TakeRescoring take:
                    w.Write(take.Partition);
                    WireCodec.WriteRef(w, take.ScoringInbox);
                    break;
                case FlushScoredMarks flush:
                    w.Write(flush.Partition);
                    break;
                case CloseSessions close:
                    w.Write(close.Partition);
                    w.Write(close.WatermarkMs);
                    WireCodec.WriteRef(w, close.ScoringInbox);
                    break;
                default:
                    throw new ArgumentException($"{obj.GetType()} is not serialized by {nameof(EngineSerializer)}");
            }
        }
        byte[] result = buffer.ToArray();
        if (buffer.Capacity > 1 << 20) t_buffer = null; // do not keep a snapshot-sized buffer per thread
        return result;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        return manifest switch
        {
            EventsManifest => ReadEvents(r, withSessions: true, withOrigin: true),
            EventsV4Manifest => ReadEvents(r, withSessions: true, withOrigin: false),
            EventsV3Manifest => ReadEvents(r, withSessions: false, withOrigin: false),
            EventsV2Manifest => ReadEventsV2(r),
            EventsV1Manifest => new EventsPersisted(EventCodec.ReadBatch(r)),
            SnapshotManifest => ReadSnapshot(r),
            BatchManifest => WireCodec.ReadBatch(r, _system),
            ReplyManifest => WireCodec.ReadReply(r),
            ReplyV2Manifest => WireCodec.ReadReply(r, withSessions: false),
            CloseSessionsManifest => new CloseSessions(r.ReadInt32(), r.ReadInt64(), WireCodec.ReadRef(r, _system)),
            SettleManifest => WireCodec.ReadSettle(r, _system),
            SettledManifest => WireCodec.ReadSettled(r),
            FollowUpsManifest => new FollowUps(r.ReadInt32(), WireCodec.ReadRequests(r)),
            HandedOverManifest => new HandedOver(r.ReadInt32(), StateCodec.ReadLongs(r)),
            DeliveredManifest => new AlertsDelivered(r.ReadInt32(), StateCodec.ReadStrings(r)),
            GetAlertStateManifest => new GetAlertState(r.ReadInt32(), r.ReadString()),
            AlertStateManifest => new UserAlertStateReply(r.ReadString(), r.ReadBoolean(), StateCodec.ReadAlertState(r)),
            GetStatsManifest => new GetPartitionStats(r.ReadInt32()),
            StatsManifest => WireCodec.ReadStats(r),
            GetUserStatesManifest => new GetUserStates(r.ReadInt32()),
            UserStatesManifest => WireCodec.ReadUserStates(r),
            TakeRescoringManifest => new TakeRescoring(r.ReadInt32(), WireCodec.ReadRef(r, _system)),
            FlushScoredMarksManifest => new FlushScoredMarks(r.ReadInt32()),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown manifest '{manifest}' (written by a newer StreamDetect?)"),
        };
    }

    private static void WriteEvents(BinaryWriter w, EventsPersisted events)
    {
        w.Write(events.AwaitingScoring);
        EventCodec.WriteBatch(w, events.Events);
        WriteScored(w, events.Marks.Select(m => (m.UserId, m.ScoredThrough)).ToList());
        StateCodec.WriteAlerts(w, events.Alerts.ToArray());
        StateCodec.WriteStrings(w, events.Delivered.ToArray());
        // E4: the end-of-input session close.
        w.Write(events.SessionsClosedAtMs is not null);
        if (events.SessionsClosedAtMs is long closedAt) w.Write(closedAt);
        // E5: the stream that settled the alerts.
        w.Write(events.AlertsOrigin is not null);
        if (events.AlertsOrigin is { } origin) w.Write(origin);
    }

    private static EventsPersisted ReadEvents(BinaryReader r, bool withSessions, bool withOrigin)
    {
        var row = ReadEventsV2(r);
        row = row with { Alerts = StateCodec.ReadAlerts(r), Delivered = StateCodec.ReadStrings(r) };
        if (withSessions && r.ReadBoolean()) row = row with { SessionsClosedAtMs = r.ReadInt64() };
        return withOrigin && r.ReadBoolean() ? row with { AlertsOrigin = r.ReadString() } : row;
    }

    private static EventsPersisted ReadEventsV2(BinaryReader r)
    {
        bool awaiting = r.ReadBoolean();
        var events = EventCodec.ReadBatch(r);
        var marks = ReadScored(r).Select(m => new ScoredMark(m.Key, m.Value)).ToList();
        return new EventsPersisted(events, awaiting, marks);
    }

    private static void WriteScored(BinaryWriter w, IReadOnlyCollection<(string UserId, long ScoredThrough)> marks)
    {
        w.Write7BitEncodedInt(marks.Count);
        foreach (var (user, through) in marks)
        {
            w.Write(user);
            w.Write7BitEncodedInt64(through);
        }
    }

    private static List<KeyValuePair<string, long>> ReadScored(BinaryReader r)
    {
        int count = r.Read7BitEncodedInt();
        var marks = new List<KeyValuePair<string, long>>(count);
        for (int i = 0; i < count; i++) marks.Add(new(r.ReadString(), r.Read7BitEncodedInt64()));
        return marks;
    }

    private static void WriteSnapshot(BinaryWriter w, PartitionSnapshot s)
    {
        w.Write(PartitionSnapshot.CurrentLayout);
        w.Write(s.EventsApplied);
        w.Write7BitEncodedInt(s.SourceMarks.Count);
        foreach (var (stream, mark) in s.SourceMarks)
        {
            w.Write(stream.Source);
            w.Write(stream.Partition);
            w.Write(stream.Epoch);
            w.Write(mark);
        }
        w.Write(s.EncodedUsers.Length);
        w.Write(s.EncodedUsers);
        StateCodec.WriteAlerts(w, s.Undelivered.ToArray());
        w.Write(s.WatermarkMs);
        // Layout 7: each undelivered alert's stream.
        for (int i = 0; i < s.Undelivered.Count; i++)
        {
            string? origin = i < s.UndeliveredOrigins.Count ? s.UndeliveredOrigins[i] : null;
            w.Write(origin is not null);
            if (origin is not null) w.Write(origin);
        }
    }

    private static PartitionSnapshot ReadSnapshot(BinaryReader r)
    {
        byte layout = r.ReadByte();
        // 2: behaviour only; 3: plus scoring marks; 4: user records (behaviour, alert state, unscored events) and undelivered alerts;
        // 5: as 4, with each unscored event's device and IP; 6: as 5, with each user's open session label and the partition's watermark;
        // 7: as 6, with the stream each undelivered alert was settled by.
        if (layout is not (2 or 3 or 4 or 5 or 6 or 7))
            throw new System.Runtime.Serialization.SerializationException($"partition snapshot layout version {layout} is not supported (this build reads 2 to 7)");
        long applied = r.ReadInt64();
        int markCount = r.Read7BitEncodedInt();
        var marks = new Dictionary<SourceStream, long>(markCount);
        for (int i = 0; i < markCount; i++) marks[new SourceStream(r.ReadString(), r.ReadInt32(), r.ReadInt64())] = r.ReadInt64();
        int length = r.ReadInt32();
        byte[] users = r.ReadBytes(length);
        if (layout == 3) ReadScored(r); // the unconfirmed users of an old snapshot: counted as scored (see PartitionSnapshot.Users)
        var undelivered = layout >= 4 ? StateCodec.ReadAlerts(r) : [];
        long watermark = layout >= 6 ? r.ReadInt64() : long.MinValue;
        var origins = new List<string?>(layout >= 7 ? undelivered.Count : 0);
        if (layout >= 7)
            for (int i = 0; i < undelivered.Count; i++) origins.Add(r.ReadBoolean() ? r.ReadString() : null);
        return new PartitionSnapshot(applied, marks, users, layout) { Undelivered = undelivered, UndeliveredOrigins = origins, WatermarkMs = watermark };
    }
}
