using Akka.Actor;
using Akka.Serialization;
using StreamDetect.Engine.Entities;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Akka serializer for everything StreamDetect persists — journal rows (<see cref="EventsPersisted"/>)
/// and partition snapshots — and for the messages that cross nodes (<see cref="WireCodec"/>).
/// Explicit binary layouts with versions (never reflection JSON of internal types), so state written
/// by this version is read by the next. Registered in hocon/streamdetect.conf.
/// </summary>
public sealed class EngineSerializer : SerializerWithStringManifest
{
    private const string EventsV1Manifest = "E1"; // events only (read: rows written before scoring marks)
    private const string EventsManifest = "E2";
    private const string SnapshotManifest = "S1";
    private const string BatchManifest = "PB1";
    private const string ReplyManifest = "PR1";
    private const string ModelStateV1Manifest = "MS1"; // slot only
    private const string ModelStateManifest = "MS2";
    private const string GetStatsManifest = "GS1";
    private const string StatsManifest = "ST1";
    private const string GetUserStatesManifest = "GU1";
    private const string UserStatesManifest = "US1";
    private const string GetWindowManifest = "GW1";
    private const string WindowManifest = "UW1";
    private const string TakeRescoringManifest = "TR1";
    private const string FlushScoredMarksManifest = "FM1";

    public EngineSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    public override int Identifier => 742_001;

    public override string Manifest(object o) => o switch
    {
        EventsPersisted => EventsManifest,
        PartitionSnapshot => SnapshotManifest,
        PartitionBatch => BatchManifest,
        PartitionReply => ReplyManifest,
        ModelStateUpdate => ModelStateManifest,
        GetPartitionStats => GetStatsManifest,
        PartitionStats => StatsManifest,
        GetUserStates => GetUserStatesManifest,
        UserStates => UserStatesManifest,
        GetUserWindow => GetWindowManifest,
        UserWindow => WindowManifest,
        TakeRescoring => TakeRescoringManifest,
        FlushScoredMarks => FlushScoredMarksManifest,
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
                case ModelStateUpdate update:
                    w.Write(update.Partition);
                    w.Write(update.UserId);
                    WireCodec.WriteSlot(w, update.Slot);
                    w.Write(update.ScoredThrough);
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
                case GetUserWindow get:
                    w.Write(get.Partition);
                    w.Write(get.UserId);
                    break;
                case UserWindow window:
                    WireCodec.WriteUserWindow(w, window);
                    break;
                case TakeRescoring take:
                    w.Write(take.Partition);
                    break;
                case FlushScoredMarks flush:
                    w.Write(flush.Partition);
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
            EventsManifest => ReadEvents(r),
            EventsV1Manifest => new EventsPersisted(EventCodec.ReadBatch(r)),
            SnapshotManifest => ReadSnapshot(r),
            BatchManifest => WireCodec.ReadBatch(r),
            ReplyManifest => WireCodec.ReadReply(r),
            ModelStateManifest => new ModelStateUpdate(r.ReadInt32(), r.ReadString(), WireCodec.ReadSlot(r)) { ScoredThrough = r.ReadInt64() },
            ModelStateV1Manifest => new ModelStateUpdate(r.ReadInt32(), r.ReadString(), WireCodec.ReadSlot(r)),
            GetStatsManifest => new GetPartitionStats(r.ReadInt32()),
            StatsManifest => WireCodec.ReadStats(r),
            GetUserStatesManifest => new GetUserStates(r.ReadInt32()),
            UserStatesManifest => WireCodec.ReadUserStates(r),
            GetWindowManifest => new GetUserWindow(r.ReadInt32(), r.ReadString()),
            WindowManifest => WireCodec.ReadUserWindow(r),
            TakeRescoringManifest => new TakeRescoring(r.ReadInt32()),
            FlushScoredMarksManifest => new FlushScoredMarks(r.ReadInt32()),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown manifest '{manifest}' (written by a newer StreamDetect?)"),
        };
    }

    private static void WriteEvents(BinaryWriter w, EventsPersisted events)
    {
        w.Write(events.AwaitingScoring);
        EventCodec.WriteBatch(w, events.Events);
        WriteScored(w, events.Marks.Select(m => (m.UserId, m.ScoredThrough)).ToList());
    }

    private static EventsPersisted ReadEvents(BinaryReader r)
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
        w.Write((byte)3);
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
        WriteScored(w, s.ScoredThrough.Select(p => (p.Key, p.Value)).ToList());
    }

    private static PartitionSnapshot ReadSnapshot(BinaryReader r)
    {
        byte version = r.ReadByte();
        // 2: before scoring marks (every user counts as scored); 3: with them.
        if (version is not (2 or 3)) throw new System.Runtime.Serialization.SerializationException($"partition snapshot layout version {version} is not supported (this build reads 2 and 3)");
        long applied = r.ReadInt64();
        int markCount = r.Read7BitEncodedInt();
        var marks = new Dictionary<SourceStream, long>(markCount);
        for (int i = 0; i < markCount; i++) marks[new SourceStream(r.ReadString(), r.ReadInt32(), r.ReadInt64())] = r.ReadInt64();
        int length = r.ReadInt32();
        byte[] users = r.ReadBytes(length);
        var scored = version >= 3 ? ReadScored(r).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal) : null;
        return new PartitionSnapshot(applied, marks, users) { ScoredThrough = scored ?? new Dictionary<string, long>() };
    }
}
