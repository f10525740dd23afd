using StreamDetect.Engine.Persistence;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// A user partition's whole state: the source marks, the event count, every user's record and the alerts
/// journaled but not yet delivered. The users are encoded at capture time, because the snapshot store
/// writes asynchronously while the partition keeps changing its users: encoding at capture makes the
/// snapshot exactly the state it claims.
/// </summary>
/// <param name="Layout">How <paramref name="EncodedUsers"/> is laid out (7 = as 6, the snapshot also names each undelivered alert's stream): 6 = user records with the label of their open session; 5 = user records (<see cref="StateCodec.WriteUser"/>) whose unscored events keep their device and IP; 4 = the same without them; 2 and 3 = behaviour only (written by earlier versions).</param>
public sealed record PartitionSnapshot(long EventsApplied, IReadOnlyDictionary<SourceStream, long> SourceMarks, byte[] EncodedUsers, byte Layout = PartitionSnapshot.CurrentLayout)
{
    public const byte CurrentLayout = 7;

    /// <summary>Alerts journaled but not yet delivered.</summary>
    public IReadOnlyList<AlertRecord> Undelivered { get; init; } = [];

    /// <summary>The stream each undelivered alert was settled by (<see cref="EventsPersisted.AlertsOrigin"/>), in the order of <see cref="Undelivered"/>; null entries (and none before layout 7) where unknown.</summary>
    public IReadOnlyList<string?> UndeliveredOrigins { get; init; } = [];

    /// <summary>The partition's event-time watermark (the largest order key it has folded; <see cref="long.MinValue"/> before layout 6).</summary>
    public long WatermarkMs { get; init; } = long.MinValue;

    /// <summary>Captures the partition's state now.</summary>
    public static PartitionSnapshot Capture(PartitionState state)
    {
        using var buffer = new MemoryStream(state.Users.Count * 1200 + 16);
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write7BitEncodedInt(state.Users.Count);
            foreach (var (id, user) in state.Users)
            {
                w.Write(id);
                StateCodec.WriteUser(w, user);
            }
        }
        return new PartitionSnapshot(state.EventsApplied, state.Replays.Applied.ToDictionary(), buffer.ToArray())
        {
            Undelivered = state.Alerts.Undelivered.ToList(),
            UndeliveredOrigins = state.Alerts.Origins.ToList(),
            WatermarkMs = state.WatermarkMs,
        };
    }

    /// <summary>Replaces the partition's state with this snapshot's.</summary>
    public void RestoreInto(PartitionState state, int windowSize)
    {
        state.Restore(EventsApplied, SourceMarks, Users(windowSize), Undelivered, UndeliveredOrigins, WatermarkMs);
    }

    /// <summary>Decodes the user records.</summary>
    public List<KeyValuePair<string, UserRecord>> Users(int windowSize)
    {
        using var r = new BinaryReader(new MemoryStream(EncodedUsers));
        int count = r.Read7BitEncodedInt();
        var users = new List<KeyValuePair<string, UserRecord>>(count);
        for (int i = 0; i < count; i++)
        {
            string id = r.ReadString();
            UserRecord user;
            if (Layout >= 4)
            {
                // Layout 4 kept no device or IP of unscored events: their alerts say none.
                user = StateCodec.ReadUser(r, windowSize, withOrigins: Layout >= 5, withSession: Layout >= 6);
            }
            else
            {
                // Earlier layouts kept behaviour only. Events a layout-3 snapshot lists as not confirmed scored
                // cannot be scored again exactly (their feature vectors were not kept): they count as scored.
                var behavior = UserBehaviorState.ReadFrom(r);
                user = new UserRecord(behavior) { ScoredThrough = behavior.EntryCount };
            }
            users.Add(new(id, user));
        }
        return users;
    }
}
