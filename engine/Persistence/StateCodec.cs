using StreamDetect.Engine.Entities;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Binary layouts of the per-user state a partition persists in its snapshots and sends across nodes:
/// window entries, model state slots, alert state, alert records, whole user records. Explicit and
/// versioned by the layouts that embed them (snapshot layout, journal row manifest).
/// </summary>
public static class StateCodec
{
    public static void WriteEntries(BinaryWriter w, IReadOnlyList<WindowEntry> entries)
    {
        w.Write7BitEncodedInt(entries.Count);
        foreach (var e in entries) WriteEntry(w, e);
    }

    public static WindowEntry[] ReadEntries(BinaryReader r)
    {
        var window = new WindowEntry[r.Read7BitEncodedInt()];
        for (int i = 0; i < window.Length; i++) window[i] = ReadEntry(r);
        return window;
    }

    public static void WriteEntry(BinaryWriter w, WindowEntry e)
    {
        w.Write(e.Type);
        w.Write(e.TimestampMs);
        w.Write(e.Amount);
        w.Write(e.ItemHash);
        w.Write(e.CategoryHash);
    }

    public static WindowEntry ReadEntry(BinaryReader r) =>
        new(EventTypes.Intern(r.ReadString()), r.ReadInt64(), r.ReadSingle(), r.ReadInt32(), r.ReadInt32());

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

    public static void WriteAlertState(BinaryWriter w, UserAlertState s)
    {
        w.Write(s.LastAlertMs);
        WriteOptional(w, s.LastAlertId);
        w.Write(SegmentCode(s.LastSegment));
        WriteOptional(w, s.LastModel);
        w.Write(s.OpenDay);
        w.Write(SegmentCode(s.OpenSegment));
        w.Write(s.OpenMax);
    }

    public static UserAlertState ReadAlertState(BinaryReader r) =>
        new(r.ReadInt64(), ReadOptional(r), SegmentOf(r.ReadByte()), ReadOptional(r), r.ReadInt64(), SegmentOf(r.ReadByte()), r.ReadDouble());

    public static void WriteAlert(BinaryWriter w, AlertRecord a)
    {
        w.Write(a.AlertId);
        w.Write(a.UserId);
        w.Write(a.TimeMs);
        w.Write(a.OrderKey);
        w.Write(a.EventIndex);
        w.Write7BitEncodedInt(a.Json.Length);
        w.Write(a.Json);
    }

    public static AlertRecord ReadAlert(BinaryReader r) =>
        new(r.ReadString(), r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadBytes(r.Read7BitEncodedInt()));

    public static void WriteAlerts(BinaryWriter w, IReadOnlyCollection<AlertRecord> alerts)
    {
        w.Write7BitEncodedInt(alerts.Count);
        foreach (var a in alerts) WriteAlert(w, a);
    }

    public static List<AlertRecord> ReadAlerts(BinaryReader r)
    {
        int count = r.Read7BitEncodedInt();
        var alerts = new List<AlertRecord>(count);
        for (int i = 0; i < count; i++) alerts.Add(ReadAlert(r));
        return alerts;
    }

    public static void WriteStrings(BinaryWriter w, IReadOnlyCollection<string> values)
    {
        w.Write7BitEncodedInt(values.Count);
        foreach (string v in values) w.Write(v);
    }

    public static List<string> ReadStrings(BinaryReader r)
    {
        int count = r.Read7BitEncodedInt();
        var values = new List<string>(count);
        for (int i = 0; i < count; i++) values.Add(r.ReadString());
        return values;
    }

    public static void WriteLongs(BinaryWriter w, IReadOnlyCollection<long> values)
    {
        w.Write7BitEncodedInt(values.Count);
        foreach (long v in values) w.Write(v);
    }

    public static long[] ReadLongs(BinaryReader r)
    {
        var values = new long[r.Read7BitEncodedInt()];
        for (int i = 0; i < values.Length; i++) values[i] = r.ReadInt64();
        return values;
    }

    public static void WriteTicket(BinaryWriter w, RequestTicket t)
    {
        w.Write(t.Incarnation);
        w.Write(t.Sequence);
    }

    public static RequestTicket ReadTicket(BinaryReader r) => new(r.ReadInt64(), r.ReadInt64());

    /// <summary>A user record as snapshots keep it: behaviour, alert state, scored-through, the unscored events.</summary>
    public static void WriteUser(BinaryWriter w, UserRecord user)
    {
        user.Behavior.WriteTo(w);
        WriteAlertState(w, user.Alert);
        w.Write7BitEncodedInt64(user.ScoredThrough);
        var tail = user.Tail;
        // Snapshot layout 6: the label of the user's open session (its end marker carries it).
        w.Write(user.SessionLabel);
        w.Write(tail is not null);
        if (tail is null) return;
        w.Write7BitEncodedInt64(tail.FirstEventIndex);
        WriteEntries(w, tail.Context);
        WriteEntries(w, tail.Entries);
        foreach (long key in tail.Keys) w.Write(key);
        foreach (sbyte label in tail.Labels) w.Write(label);
        foreach (float f in tail.Features) w.Write(f);
        // Snapshot layout 5: each unscored event's device and IP (for its alert's context).
        for (int i = 0; i < tail.Count; i++)
        {
            WriteOptional(w, tail.Devices[i]);
            WriteOptional(w, tail.Ips[i]);
        }
    }

    /// <param name="withOrigins">Layout 5 and later: each unscored event's device and IP follow its features.</param>
    /// <param name="withSession">Layout 6 and later: the open session's label follows the scored-through count.</param>
    public static UserRecord ReadUser(BinaryReader r, int windowSize, bool withOrigins = true, bool withSession = true)
    {
        var user = new UserRecord(UserBehaviorState.ReadFrom(r))
        {
            Alert = ReadAlertState(r),
            ScoredThrough = r.Read7BitEncodedInt64(),
        };
        if (withSession) user.SessionLabel = r.ReadSByte();
        if (!r.ReadBoolean()) return user;
        long first = r.Read7BitEncodedInt64();
        var context = ReadEntries(r);
        var entries = ReadEntries(r);
        var keys = new long[entries.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = r.ReadInt64();
        var labels = new sbyte[entries.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = r.ReadSByte();
        var tail = new ScoringTail(context, first, windowSize);
        var rows = new float[entries.Length * FeatureSchema.Count];
        for (int k = 0; k < rows.Length; k++) rows[k] = r.ReadSingle();
        for (int i = 0; i < entries.Length; i++)
        {
            string? device = null, ip = null;
            if (withOrigins)
            {
                device = ReadOptional(r);
                ip = ReadOptional(r);
            }
            tail.AddRestored(entries[i], rows.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count), keys[i], labels[i], device, ip);
        }
        user.Tail = tail.Count > 0 ? tail : null;
        return user;
    }

    /// <summary>Optional strings, one per event (<paramref name="count"/>), or none: a presence flag, then each with its own flag.</summary>
    public static void WriteOptionalStrings(BinaryWriter w, string?[]? values, int count)
    {
        w.Write(values is not null);
        if (values is null) return;
        if (values.Length != count) throw new ArgumentException($"{values.Length} values for {count} events", nameof(values));
        foreach (string? v in values) WriteOptional(w, v);
    }

    public static string?[]? ReadOptionalStrings(BinaryReader r, int count)
    {
        if (!r.ReadBoolean()) return null;
        var values = new string?[count];
        for (int i = 0; i < count; i++) values[i] = ReadOptional(r);
        return values;
    }

    private static void WriteOptional(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null) w.Write(value);
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static byte SegmentCode(string? segment) => segment switch
    {
        null => 0,
        UserSegment.New => 1,
        UserSegment.Established => 2,
        _ => throw new ArgumentException($"unknown segment '{segment}'"),
    };

    private static string? SegmentOf(byte code) => code switch
    {
        0 => null,
        1 => UserSegment.New,
        2 => UserSegment.Established,
        _ => throw new InvalidDataException($"unknown segment code {code}"),
    };
}
