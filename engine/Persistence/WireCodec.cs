using StreamDetect.Engine.Entities;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Binary layouts of the messages that cross nodes in a cluster (the stream on one node, a user
/// partition on another). A source acknowledgement (<see cref="IngestedEvent.Ack"/>) never travels:
/// the routing flow keeps it on its own node.
/// </summary>
public static class WireCodec
{
    public static void WriteBatch(BinaryWriter w, PartitionBatch batch)
    {
        w.Write(batch.Partition);
        var persisted = new PersistedEvent[batch.Events.Count];
        for (int i = 0; i < persisted.Length; i++) persisted[i] = new PersistedEvent(batch.Events[i].Event, batch.Events[i].Position);
        EventCodec.WriteBatch(w, persisted);
        foreach (var e in batch.Events) w.Write(e.ReceivedTicks);
    }

    public static PartitionBatch ReadBatch(BinaryReader r)
    {
        int partition = r.ReadInt32();
        var events = EventCodec.ReadBatch(r);
        var ingested = new IngestedEvent[events.Count];
        for (int i = 0; i < ingested.Length; i++)
            ingested[i] = new IngestedEvent(events[i].Event, events[i].Position) { ReceivedTicks = r.ReadInt64() };
        return new PartitionBatch(partition, ingested);
    }

    public static void WriteReply(BinaryWriter w, PartitionReply reply)
    {
        w.Write(reply.Partition);
        w.Write(reply.Accepted);
        w.Write(reply.Duplicates);
        w.Write(reply.NewUsers);
        w.Write(reply.SnapshotTaken);
        w.Write7BitEncodedInt(reply.Requests.Count);
        foreach (var request in reply.Requests) WriteRequest(w, request);
    }

    public static PartitionReply ReadReply(BinaryReader r)
    {
        int partition = r.ReadInt32();
        int accepted = r.ReadInt32(), duplicates = r.ReadInt32(), newUsers = r.ReadInt32();
        bool snapshot = r.ReadBoolean();
        int count = r.Read7BitEncodedInt();
        var requests = new ScoringRequest[count];
        for (int i = 0; i < count; i++) requests[i] = ReadRequest(r);
        return new PartitionReply(partition, requests, accepted, duplicates, newUsers, snapshot);
    }

    public static void WriteRequest(BinaryWriter w, ScoringRequest q)
    {
        w.Write(q.UserId);
        w.Write(q.Partition);
        WriteEntries(w, q.Window);
        w.Write(q.NewEvents);
        w.Write7BitEncodedInt(q.Features.Length);
        foreach (float f in q.Features) w.Write(f);
        WriteSlot(w, q.State);
        w.Write(q.EventCount);
        w.Write(q.FirstEventMs);
        w.Write(q.Label ?? -1);
        w.Write(q.ReceivedTicks);
    }

    public static ScoringRequest ReadRequest(BinaryReader r)
    {
        string user = r.ReadString();
        int partition = r.ReadInt32();
        var window = ReadEntries(r);
        int newEvents = r.ReadInt32();
        var features = new float[r.Read7BitEncodedInt()];
        for (int i = 0; i < features.Length; i++) features[i] = r.ReadSingle();
        var state = ReadSlot(r);
        long eventCount = r.ReadInt64(), firstEventMs = r.ReadInt64();
        int label = r.ReadInt32();
        long ticks = r.ReadInt64();
        return new ScoringRequest(user, partition, window, newEvents, features, state, eventCount, firstEventMs)
        {
            Label = label < 0 ? null : label,
            ReceivedTicks = ticks,
        };
    }

    public static void WriteUserWindow(BinaryWriter w, UserWindow window)
    {
        w.Write(window.UserId);
        w.Write(window.EventCount);
        WriteEntries(w, window.Window);
    }

    public static UserWindow ReadUserWindow(BinaryReader r)
    {
        string user = r.ReadString();
        long count = r.ReadInt64();
        return new UserWindow(user, ReadEntries(r), count);
    }

    private static void WriteEntries(BinaryWriter w, IReadOnlyList<WindowEntry> entries)
    {
        w.Write7BitEncodedInt(entries.Count);
        foreach (var e in entries)
        {
            w.Write(e.Type);
            w.Write(e.TimestampMs);
            w.Write(e.Amount);
            w.Write(e.ItemHash);
            w.Write(e.CategoryHash);
        }
    }

    private static WindowEntry[] ReadEntries(BinaryReader r)
    {
        var window = new WindowEntry[r.Read7BitEncodedInt()];
        for (int i = 0; i < window.Length; i++)
            window[i] = new WindowEntry(Models.Events.EventTypes.Intern(r.ReadString()), r.ReadInt64(), r.ReadSingle(), r.ReadInt32(), r.ReadInt32());
        return window;
    }

    public static void WriteSlot(BinaryWriter w, ModelStateSlot? slot)
    {
        w.Write(slot is not null);
        if (slot is null) return;
        w.Write(slot.ModelKey);
        w.Write(slot.EventsFolded);
        w.Write7BitEncodedInt(slot.Values.Length);
        foreach (float v in slot.Values) w.Write(v);
    }

    public static ModelStateSlot? ReadSlot(BinaryReader r)
    {
        if (!r.ReadBoolean()) return null;
        string key = r.ReadString();
        long folded = r.ReadInt64();
        var values = new float[r.Read7BitEncodedInt()];
        for (int i = 0; i < values.Length; i++) values[i] = r.ReadSingle();
        return new ModelStateSlot(key, folded, values);
    }

    public static void WriteStats(BinaryWriter w, PartitionStats s)
    {
        w.Write(s.Partition); w.Write(s.Users); w.Write(s.EventsApplied); w.Write(s.RowsWritten);
        w.Write(s.EventsPersisted); w.Write(s.Duplicates); w.Write(s.Snapshots); w.Write(s.RecoveryMs);
    }

    public static PartitionStats ReadStats(BinaryReader r) =>
        new(r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt64());

    public static void WriteUserStates(BinaryWriter w, UserStates states)
    {
        w.Write(states.Partition);
        w.Write7BitEncodedInt(states.States.Count);
        foreach (var (user, bytes) in states.States)
        {
            w.Write(user);
            w.Write7BitEncodedInt(bytes.Length);
            w.Write(bytes);
        }
    }

    public static UserStates ReadUserStates(BinaryReader r)
    {
        int partition = r.ReadInt32();
        int count = r.Read7BitEncodedInt();
        var states = new Dictionary<string, byte[]>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++) states[r.ReadString()] = r.ReadBytes(r.Read7BitEncodedInt());
        return new UserStates(partition, states);
    }
}
