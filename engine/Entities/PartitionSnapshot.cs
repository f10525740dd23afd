using StreamDetect.Models.Features;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// A user partition's whole state: the source marks, the event count, and every user's state — the
/// users already encoded, because the snapshot store writes asynchronously while the partition keeps
/// changing its users: encoding at capture time makes the snapshot exactly the state it claims.
/// </summary>
public sealed record PartitionSnapshot(long EventsApplied, IReadOnlyDictionary<SourceStream, long> SourceMarks, byte[] EncodedUsers)
{
    /// <summary>
    /// The users whose persisted events are not all confirmed scored, with the event count they are
    /// scored through (users not listed are scored through their last event).
    /// </summary>
    public IReadOnlyDictionary<string, long> ScoredThrough { get; init; } = new Dictionary<string, long>();

    /// <summary>Captures the users' states now.</summary>
    public static PartitionSnapshot Capture(long eventsApplied, IReadOnlyDictionary<SourceStream, long> marks, IReadOnlyDictionary<string, UserBehaviorState> users)
    {
        using var buffer = new MemoryStream(users.Count * 1024 + 16);
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write7BitEncodedInt(users.Count);
            foreach (var (user, state) in users)
            {
                w.Write(user);
                state.WriteTo(w);
            }
        }
        return new PartitionSnapshot(eventsApplied, marks, buffer.ToArray());
    }

    /// <summary>Decodes the users' states.</summary>
    public Dictionary<string, UserBehaviorState> Users()
    {
        using var r = new BinaryReader(new MemoryStream(EncodedUsers));
        int count = r.Read7BitEncodedInt();
        var users = new Dictionary<string, UserBehaviorState>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string user = r.ReadString();
            users[user] = UserBehaviorState.ReadFrom(r);
        }
        return users;
    }
}
