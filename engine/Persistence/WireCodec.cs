using Akka.Actor;
using StreamDetect.Engine.Entities;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Binary layouts of the partition protocol's messages that cross nodes in a cluster (the stream on one
/// node, a user partition on another). A source acknowledgement (<see cref="IngestedEvent.Ack"/>) never
/// travels: the routing flow keeps it on its own node. Actor references (scoring inboxes) travel as their
/// serialized paths.
/// </summary>
public static class WireCodec
{
    public static void WriteBatch(BinaryWriter w, PartitionBatch batch)
    {
        w.Write(batch.Partition);
        WriteRef(w, batch.ScoringInbox);
        var persisted = new PersistedEvent[batch.Events.Count];
        for (int i = 0; i < persisted.Length; i++) persisted[i] = new PersistedEvent(batch.Events[i].Event, batch.Events[i].Position, batch.Events[i].OrderKey);
        EventCodec.WriteBatch(w, persisted);
        foreach (var e in batch.Events) w.Write(e.ReceivedTicks);
    }

    public static PartitionBatch ReadBatch(BinaryReader r, ActorSystem system)
    {
        int partition = r.ReadInt32();
        var inbox = ReadRef(r, system);
        var events = EventCodec.ReadBatch(r);
        var ingested = new IngestedEvent[events.Count];
        for (int i = 0; i < ingested.Length; i++)
            ingested[i] = new IngestedEvent(events[i].Event, events[i].Position) { ReceivedTicks = r.ReadInt64(), OrderKey = events[i].OrderKey };
        return new PartitionBatch(partition, ingested, inbox);
    }

    public static void WriteReply(BinaryWriter w, PartitionReply reply)
    {
        w.Write(reply.Partition);
        w.Write(reply.Accepted);
        w.Write(reply.Duplicates);
        w.Write(reply.NewUsers);
        w.Write(reply.SnapshotTaken);
        WriteRequests(w, reply.Requests);
        StateCodec.WriteLongs(w, reply.DroppedKeys.ToArray());
        StateCodec.WriteAlerts(w, reply.UndeliveredAlerts.ToArray());
        // Layout PR3: the session end markers.
        StateCodec.WriteLongs(w, reply.MarkerKeys.ToArray());
        w.Write(reply.SessionsClosed);
    }

    /// <param name="withSessions">Layout PR3 and later: the session end markers' keys and count follow.</param>
    public static PartitionReply ReadReply(BinaryReader r, bool withSessions = true)
    {
        int partition = r.ReadInt32();
        int accepted = r.ReadInt32(), duplicates = r.ReadInt32(), newUsers = r.ReadInt32();
        bool snapshot = r.ReadBoolean();
        var requests = ReadRequests(r);
        var reply = new PartitionReply(partition, requests, accepted, duplicates, newUsers, snapshot)
        {
            DroppedKeys = StateCodec.ReadLongs(r),
            UndeliveredAlerts = StateCodec.ReadAlerts(r),
        };
        return withSessions ? reply with { MarkerKeys = StateCodec.ReadLongs(r), SessionsClosed = r.ReadInt32() } : reply;
    }

    public static void WriteRequests(BinaryWriter w, IReadOnlyList<ScoringRequest> requests)
    {
        w.Write7BitEncodedInt(requests.Count);
        foreach (var request in requests) WriteRequest(w, request);
    }

    public static ScoringRequest[] ReadRequests(BinaryReader r)
    {
        var requests = new ScoringRequest[r.Read7BitEncodedInt()];
        for (int i = 0; i < requests.Length; i++) requests[i] = ReadRequest(r);
        return requests;
    }

    public static void WriteRequest(BinaryWriter w, ScoringRequest q)
    {
        w.Write(q.UserId);
        w.Write(q.Partition);
        StateCodec.WriteEntries(w, q.Window);
        w.Write7BitEncodedInt(q.NewEvents);
        w.Write7BitEncodedInt(q.Features.Length);
        foreach (float f in q.Features) w.Write(f);
        StateCodec.WriteSlot(w, q.State);
        w.Write(q.EventCount);
        w.Write(q.FirstEventMs);
        StateCodec.WriteLongs(w, q.OrderKeys);
        StateCodec.WriteAlertState(w, q.Alert);
        StateCodec.WriteTicket(w, q.Ticket);
        w.Write(q.Labels is not null);
        if (q.Labels is not null)
            foreach (sbyte l in q.Labels) w.Write(l);
        w.Write(q.ReceivedTicks);
        w.Write(q.AdmitKeys is not null);
        if (q.AdmitKeys is not null) StateCodec.WriteLongs(w, q.AdmitKeys);
        StateCodec.WriteOptionalStrings(w, q.Devices, q.NewEvents);
        StateCodec.WriteOptionalStrings(w, q.Ips, q.NewEvents);
    }

    public static ScoringRequest ReadRequest(BinaryReader r)
    {
        string user = r.ReadString();
        int partition = r.ReadInt32();
        var window = StateCodec.ReadEntries(r);
        int newEvents = r.Read7BitEncodedInt();
        var features = new float[r.Read7BitEncodedInt()];
        for (int i = 0; i < features.Length; i++) features[i] = r.ReadSingle();
        var state = StateCodec.ReadSlot(r);
        long eventCount = r.ReadInt64(), firstEventMs = r.ReadInt64();
        var keys = StateCodec.ReadLongs(r);
        var alert = StateCodec.ReadAlertState(r);
        var ticket = StateCodec.ReadTicket(r);
        sbyte[]? labels = null;
        if (r.ReadBoolean())
        {
            labels = new sbyte[newEvents];
            for (int i = 0; i < labels.Length; i++) labels[i] = r.ReadSByte();
        }
        long ticks = r.ReadInt64();
        var admit = r.ReadBoolean() ? StateCodec.ReadLongs(r) : null;
        var devices = StateCodec.ReadOptionalStrings(r, newEvents);
        var ips = StateCodec.ReadOptionalStrings(r, newEvents);
        return new ScoringRequest(user, partition, window, newEvents, features, state, eventCount, firstEventMs, keys, alert, ticket)
        {
            Labels = labels,
            ReceivedTicks = ticks,
            AdmitKeys = admit,
            Devices = devices,
            Ips = ips,
        };
    }

    public static void WriteSettle(BinaryWriter w, SettleScoring settle)
    {
        w.Write(settle.Partition);
        WriteRef(w, settle.Origin);
        w.Write7BitEncodedInt(settle.Users.Count);
        foreach (var u in settle.Users)
        {
            w.Write(u.UserId);
            StateCodec.WriteTicket(w, u.Ticket);
            w.Write(u.ScoredThrough);
            StateCodec.WriteSlot(w, u.State);
            StateCodec.WriteAlertState(w, u.Alert);
            StateCodec.WriteAlerts(w, u.Alerts.ToArray());
        }
    }

    public static SettleScoring ReadSettle(BinaryReader r, ActorSystem system)
    {
        int partition = r.ReadInt32();
        var origin = ReadRef(r, system);
        var users = new SettledUser[r.Read7BitEncodedInt()];
        for (int i = 0; i < users.Length; i++)
            users[i] = new SettledUser(r.ReadString(), StateCodec.ReadTicket(r), r.ReadInt64(), StateCodec.ReadSlot(r), StateCodec.ReadAlertState(r), StateCodec.ReadAlerts(r));
        return new SettleScoring(partition, origin, users);
    }

    public static void WriteSettled(BinaryWriter w, ScoringSettled settled)
    {
        w.Write(settled.Partition);
        w.Write7BitEncodedInt(settled.Stale.Count);
        foreach (var t in settled.Stale) StateCodec.WriteTicket(w, t);
    }

    public static ScoringSettled ReadSettled(BinaryReader r)
    {
        int partition = r.ReadInt32();
        var stale = new RequestTicket[r.Read7BitEncodedInt()];
        for (int i = 0; i < stale.Length; i++) stale[i] = StateCodec.ReadTicket(r);
        return new ScoringSettled(partition, stale);
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

    public static void WriteRef(BinaryWriter w, IActorRef? actor)
    {
        w.Write(actor is not null);
        if (actor is not null) w.Write(Akka.Serialization.Serialization.SerializedActorPath(actor));
    }

    public static IActorRef? ReadRef(BinaryReader r, ActorSystem system)
    {
        if (!r.ReadBoolean()) return null;
        string path = r.ReadString();
        return ((ExtendedActorSystem)system).Provider.ResolveActorRef(path);
    }
}
