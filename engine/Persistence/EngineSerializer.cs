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
    private const string EventsManifest = "E1";
    private const string SnapshotManifest = "S1";
    private const string BatchManifest = "PB1";
    private const string ReplyManifest = "PR1";
    private const string ModelStateManifest = "MS1";
    private const string GetStatsManifest = "GS1";
    private const string StatsManifest = "ST1";
    private const string GetUserStatesManifest = "GU1";
    private const string UserStatesManifest = "US1";
    private const string GetWindowManifest = "GW1";
    private const string WindowManifest = "UW1";

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
                    EventCodec.WriteBatch(w, events.Events);
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
            EventsManifest => new EventsPersisted(EventCodec.ReadBatch(r)),
            SnapshotManifest => ReadSnapshot(r),
            BatchManifest => WireCodec.ReadBatch(r),
            ReplyManifest => WireCodec.ReadReply(r),
            ModelStateManifest => new ModelStateUpdate(r.ReadInt32(), r.ReadString(), WireCodec.ReadSlot(r)!),
            GetStatsManifest => new GetPartitionStats(r.ReadInt32()),
            StatsManifest => WireCodec.ReadStats(r),
            GetUserStatesManifest => new GetUserStates(r.ReadInt32()),
            UserStatesManifest => WireCodec.ReadUserStates(r),
            GetWindowManifest => new GetUserWindow(r.ReadInt32(), r.ReadString()),
            WindowManifest => WireCodec.ReadUserWindow(r),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown manifest '{manifest}' (written by a newer StreamDetect?)"),
        };
    }

    private static void WriteSnapshot(BinaryWriter w, PartitionSnapshot s)
    {
        w.Write((byte)2);
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
    }

    private static PartitionSnapshot ReadSnapshot(BinaryReader r)
    {
        byte version = r.ReadByte();
        if (version != 2) throw new System.Runtime.Serialization.SerializationException($"partition snapshot layout version {version} is not supported (this build reads 2)");
        long applied = r.ReadInt64();
        int markCount = r.Read7BitEncodedInt();
        var marks = new Dictionary<SourceStream, long>(markCount);
        for (int i = 0; i < markCount; i++) marks[new SourceStream(r.ReadString(), r.ReadInt32(), r.ReadInt64())] = r.ReadInt64();
        int length = r.ReadInt32();
        return new PartitionSnapshot(applied, marks, r.ReadBytes(length));
    }
}
