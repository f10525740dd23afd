using StreamDetect.Engine.Entities;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Compact, versioned binary layout of events with their source positions (journal rows and the
/// cluster wire format). Optional fields are flagged in one byte; source names are written once per
/// batch. Layout changes bump <see cref="Version"/>; readers refuse versions they do not know.
/// Version 2 adds each event's order key (as the difference from its timestamp, usually 0: one byte).
/// </summary>
public static class EventCodec
{
    public const byte Version = 2;

    [Flags]
    private enum Present : ushort
    {
        None = 0, Item = 1, Category = 2, Amount = 4, Query = 8, Ip = 16, Device = 32, Session = 64, Label = 128,
    }

    public static void WriteBatch(BinaryWriter w, IReadOnlyList<PersistedEvent> events)
    {
        w.Write(Version);
        var sources = new Dictionary<(string, long), int>();
        var order = new List<(string Source, long Epoch)>();
        foreach (var e in events)
        {
            var key = (e.Position.Source, e.Position.Epoch);
            if (sources.TryAdd(key, order.Count)) order.Add(key);
        }
        w.Write7BitEncodedInt(order.Count);
        foreach (var (source, epoch) in order)
        {
            w.Write(source);
            w.Write(epoch);
        }
        w.Write7BitEncodedInt(events.Count);
        foreach (var e in events)
        {
            w.Write7BitEncodedInt(sources[(e.Position.Source, e.Position.Epoch)]);
            w.Write7BitEncodedInt(e.Position.Partition);
            w.Write7BitEncodedInt64(e.Position.Offset);
            WriteEvent(w, e.Event);
            long delta = e.OrderKey == 0 ? 0 : e.OrderKey - e.Event.TimestampMs;
            w.Write7BitEncodedInt64((delta << 1) ^ (delta >> 63));
        }
    }

    public static List<PersistedEvent> ReadBatch(BinaryReader r)
    {
        byte version = r.ReadByte();
        if (version is not (1 or Version)) throw new InvalidDataException($"event batch layout version {version} is not supported (this build reads 1 and {Version})");
        int sourceCount = r.Read7BitEncodedInt();
        var sources = new (string Source, long Epoch)[sourceCount];
        for (int i = 0; i < sourceCount; i++) sources[i] = (r.ReadString(), r.ReadInt64());
        int count = r.Read7BitEncodedInt();
        var events = new List<PersistedEvent>(count);
        for (int i = 0; i < count; i++)
        {
            int source = r.Read7BitEncodedInt();
            if ((uint)source >= (uint)sourceCount) throw new InvalidDataException("event batch refers to an unknown source");
            var position = new SourcePosition(sources[source].Source, r.Read7BitEncodedInt(), r.Read7BitEncodedInt64(), sources[source].Epoch);
            var e = ReadEvent(r);
            long key = 0;
            if (version >= 2)
            {
                ulong zigzag = (ulong)r.Read7BitEncodedInt64();
                long delta = (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
                key = e.TimestampMs + delta;
            }
            events.Add(new PersistedEvent(e, position, key));
        }
        return events;
    }

    public static void WriteEvent(BinaryWriter w, UserEvent e)
    {
        var present = Present.None;
        if (e.Item is not null) present |= Present.Item;
        if (e.Category is not null) present |= Present.Category;
        if (e.Amount is not null) present |= Present.Amount;
        if (e.Query is not null) present |= Present.Query;
        if (e.Ip is not null) present |= Present.Ip;
        if (e.Device is not null) present |= Present.Device;
        if (e.Session is not null) present |= Present.Session;
        if (e.Label is not null) present |= Present.Label;
        w.Write((ushort)present);
        w.Write(e.UserId);
        w.Write(e.TimestampMs);
        w.Write(e.Type);
        if (e.Item is not null) w.Write(e.Item);
        if (e.Category is not null) w.Write(e.Category);
        if (e.Amount is double amount) w.Write(amount);
        if (e.Query is not null) w.Write(e.Query);
        if (e.Ip is not null) w.Write(e.Ip);
        if (e.Device is not null) w.Write(e.Device);
        if (e.Session is not null) w.Write(e.Session);
        if (e.Label is int label) w.Write((sbyte)label);
    }

    public static UserEvent ReadEvent(BinaryReader r)
    {
        var present = (Present)r.ReadUInt16();
        string userId = r.ReadString();
        long ts = r.ReadInt64();
        string type = EventTypes.Intern(r.ReadString());
        return new UserEvent(userId, ts, type)
        {
            Item = present.HasFlag(Present.Item) ? r.ReadString() : null,
            Category = present.HasFlag(Present.Category) ? r.ReadString() : null,
            Amount = present.HasFlag(Present.Amount) ? r.ReadDouble() : null,
            Query = present.HasFlag(Present.Query) ? r.ReadString() : null,
            Ip = present.HasFlag(Present.Ip) ? r.ReadString() : null,
            Device = present.HasFlag(Present.Device) ? r.ReadString() : null,
            Session = present.HasFlag(Present.Session) ? r.ReadString() : null,
            Label = present.HasFlag(Present.Label) ? r.ReadSByte() : null,
        };
    }
}
