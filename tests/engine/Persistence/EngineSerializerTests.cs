using Akka.Actor;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Tests.Support;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Persistence;

public sealed class EngineSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test");

    public void Dispose() => _system.Dispose();

    private EngineSerializer Serializer => new((ExtendedActorSystem)_system);

    [Fact]
    public void A_journal_row_round_trips_every_field_and_position()
    {
        var events = TestTraffic.Generated(users: 50).Take(500)
            .Select((e, i) => new PersistedEvent(e.Event, new SourcePosition(i % 2 == 0 ? "a.jsonl" : "kafka:events", i % 3, i * 7L, i % 2 == 0 ? 99 : 0)))
            .ToList();
        var serializer = Serializer;
        var original = new EventsPersisted(events, AwaitingScoring: true, [new ScoredMark("u-1", 17), new ScoredMark("u-2", 1L << 40)]);

        var back = (EventsPersisted)serializer.FromBinary(serializer.ToBinary(original), serializer.Manifest(original));

        Assert.True(back.AwaitingScoring);
        Assert.Equal(original.Marks, back.Marks);
        Assert.Equal(events.Count, back.Events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            var (a, b) = (events[i].Event, back.Events[i].Event);
            Assert.Equal(events[i].Position, back.Events[i].Position);
            Assert.Equal((a.UserId, a.TimestampMs, a.Type, a.Item, a.Category, a.Amount, a.Query, a.Ip, a.Device, a.Session, a.Label),
                (b.UserId, b.TimestampMs, b.Type, b.Item, b.Category, b.Amount, b.Query, b.Ip, b.Device, b.Session, b.Label));
        }
    }

    [Fact]
    public void A_partition_snapshot_round_trips_users_and_marks()
    {
        var users = new Dictionary<string, UserBehaviorState>(StringComparer.Ordinal);
        foreach (var e in TestTraffic.Generated(users: 20))
        {
            if (!users.TryGetValue(e.Event.UserId, out var state)) users[e.Event.UserId] = state = new UserBehaviorState();
            state.Apply(e.Event);
        }
        var marks = new Dictionary<SourceStream, long> { [new("a.jsonl", 0, 5)] = 1234, [new("kafka:t", 3, 0)] = 99 };
        var scored = new Dictionary<string, long>(StringComparer.Ordinal) { [users.Keys.First()] = 3 };
        var snapshot = PartitionSnapshot.Capture(777, marks, users) with { ScoredThrough = scored };
        var serializer = Serializer;

        var back = (PartitionSnapshot)serializer.FromBinary(serializer.ToBinary(snapshot), serializer.Manifest(snapshot));

        Assert.Equal(777, back.EventsApplied);
        Assert.Equal(scored, back.ScoredThrough);
        Assert.Equal(marks, back.SourceMarks);
        var backUsers = back.Users();
        Assert.Equal(users.Keys.Order(), backUsers.Keys.Order());
        foreach (var (user, state) in users) Assert.Equal(state.Features(), backUsers[user].Features());
    }

    [Fact]
    public void Rows_and_snapshots_written_before_scoring_marks_are_still_read_as_scored()
    {
        var serializer = Serializer;
        var e = TestTraffic.Generated(users: 3).First().Event;
        // E1: the batch alone (EventCodec's layout), as builds before scoring marks wrote it.
        using var rowBuffer = new MemoryStream();
        using (var w = new BinaryWriter(rowBuffer, System.Text.Encoding.UTF8, leaveOpen: true))
            EventCodec.WriteBatch(w, [new PersistedEvent(e, new SourcePosition("a.jsonl", 0, 1))]);
        var row = (EventsPersisted)serializer.FromBinary(rowBuffer.ToArray(), "E1");
        Assert.Single(row.Events);
        Assert.False(row.AwaitingScoring);
        Assert.Empty(row.Marks);

        // Snapshot layout 2: the version 3 layout without the trailing scored map.
        var snapshot = PartitionSnapshot.Capture(5, new Dictionary<SourceStream, long>(), new Dictionary<string, UserBehaviorState>());
        byte[] v3 = serializer.ToBinary(snapshot);
        byte[] v2 = v3[..^1]; // an empty scored map is one byte (its count)
        v2[0] = 2;
        var back = (PartitionSnapshot)serializer.FromBinary(v2, serializer.Manifest(snapshot));
        Assert.Equal(5, back.EventsApplied);
        Assert.Empty(back.ScoredThrough);
    }

    [Fact]
    public void An_unknown_manifest_or_layout_version_is_refused()
    {
        var serializer = Serializer;
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([1], "Z9"));
        Assert.Throws<InvalidDataException>(() => serializer.FromBinary([77, 0], "E1"));
    }
}
