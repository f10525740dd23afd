using Akka.Actor;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Tests.Support;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Persistence;

public sealed class EngineSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test");

    public void Dispose() => _system.Dispose();

    private EngineSerializer Serializer => new((ExtendedActorSystem)_system);

    private T RoundTrip<T>(T message) where T : notnull
    {
        var serializer = Serializer;
        return (T)serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
    }

    private static readonly AlertRecord Alert = new("al-1", "u-1", 1_800_000_000_000, 1_800_000_000_500, 42, "{\"alertId\":\"al-1\"}"u8.ToArray());

    [Fact]
    public void A_journal_row_round_trips_every_field_position_order_key_mark_alert_and_delivery()
    {
        var events = TestTraffic.Generated(users: 50).Take(500)
            .Select((e, i) => new PersistedEvent(e.Event, new SourcePosition(i % 2 == 0 ? "a.jsonl" : "kafka:events", i % 3, i * 7L, i % 2 == 0 ? 99 : 0),
                i % 5 == 0 ? e.Event.TimestampMs + i * 13 : e.Event.TimestampMs))
            .ToList();
        var original = new EventsPersisted(events, AwaitingScoring: true, [new ScoredMark("u-1", 17), new ScoredMark("u-2", 1L << 40)])
        {
            Alerts = [Alert],
            AlertsOrigin = "akka.tcp://streamdetect@127.0.0.1:4053/user/scoring-inbox-1#1234567",
            Delivered = ["al-0", "al-9"],
        };

        var back = RoundTrip(original);

        Assert.True(back.AwaitingScoring);
        Assert.Equal(original.Marks, back.Marks);
        Assert.Equal(original.Delivered, back.Delivered);
        Assert.Equal(original.AlertsOrigin, back.AlertsOrigin);
        Assert.Equivalent(Alert, Assert.Single(back.Alerts));
        Assert.Equal(events.Count, back.Events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            var (a, b) = (events[i].Event, back.Events[i].Event);
            Assert.Equal(events[i].Position, back.Events[i].Position);
            Assert.Equal(events[i].Key, back.Events[i].Key);
            Assert.Equal((a.UserId, a.TimestampMs, a.Type, a.Item, a.Category, a.Amount, a.Query, a.Ip, a.Device, a.Session, a.Label),
                (b.UserId, b.TimestampMs, b.Type, b.Item, b.Category, b.Amount, b.Query, b.Ip, b.Device, b.Session, b.Label));
        }
    }

    [Fact]
    public void A_partition_snapshot_round_trips_users_with_their_alert_state_and_unscored_events_marks_and_undelivered_alerts()
    {
        var state = new PartitionState(3, UserPartitionSettings.Default with { WindowSize = 8 }, incarnation: 1);
        var events = TestTraffic.Generated(users: 20).Select(e => e with { OrderKey = e.Event.TimestampMs + 5 }).ToList();
        var requests = new List<ScoringRequest>();
        state.Apply(new EventsPersisted(state.Accept(events, [], []), true), new LiveRow(events.Select(_ => 0L).ToList(), null), requests);
        var first = requests[0];
        var stale = new List<RequestTicket>();
        state.Settle(new SettleScoring(3, null, [new SettledUser(first.UserId, first.Ticket, first.EventCount - 1, null,
            UserAlertState.None.WithAlert(123, "al-x") with { OpenDay = 20000, OpenSegment = "new", OpenMax = 2.5, LastSegment = "established", LastModel = "gru@1" }, [])]),
            stale, [], []);
        state.Apply(new EventsPersisted([], true) { Alerts = [Alert], AlertsOrigin = "akka://streamdetect/user/scoring-inbox-3#42" }, null, null);

        var back = RoundTrip(PartitionSnapshot.Capture(state));
        var restored = new PartitionState(3, UserPartitionSettings.Default with { WindowSize = 8 }, incarnation: 2);
        back.RestoreInto(restored, 8);

        Assert.Equal(state.EventsApplied, restored.EventsApplied);
        Assert.Equal(state.WatermarkMs, restored.WatermarkMs);
        Assert.Equal(state.Replays.Applied.ToDictionary(), restored.Replays.Applied.ToDictionary());
        Assert.Equal("al-1", Assert.Single(restored.Alerts.Undelivered).AlertId);
        Assert.Equal("akka://streamdetect/user/scoring-inbox-3#42", Assert.Single(restored.Alerts.Origins));
        Assert.Equal(state.Users.Keys.Order(), restored.Users.Keys.Order());
        foreach (var (id, user) in state.Users)
        {
            var other = restored.Users[id];
            Assert.Equal(user.Behavior.Features(), other.Behavior.Features());
            Assert.Equal(user.Alert, other.Alert);
            Assert.Equal(user.ScoredThrough, other.ScoredThrough);
            Assert.Equal(user.SessionLabel, other.SessionLabel);
            Assert.Equal(user.Tail?.Count, other.Tail?.Count);
            if (user.Tail is { } tail)
            {
                Assert.Equal(tail.Features.ToArray(), other.Tail!.Features.ToArray());
                Assert.Equal(tail.Keys, other.Tail.Keys);
                Assert.Equal(tail.Devices, other.Tail.Devices);
                Assert.Equal(tail.Ips, other.Tail.Ips);
                // A session end marker has no device; every tail with an event has one.
                if (tail.Entries.Any(entry => !Models.Sessions.SessionRule.IsEndMarker(entry))) Assert.Contains(tail.Devices, device => device is not null);
                Assert.Equal(tail.Context, other.Tail.Context);
                Assert.Equal(tail.FirstEventIndex, other.Tail.FirstEventIndex);
            }
        }
    }

    [Fact]
    public void Rows_and_snapshots_of_earlier_layouts_are_still_read()
    {
        var serializer = Serializer;
        var e = TestTraffic.Generated(users: 3).First().Event;
        // E1: the batch alone in event layout 1 (no order keys), as builds before scoring marks wrote it.
        using var rowBuffer = new MemoryStream();
        using (var w = new BinaryWriter(rowBuffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write((byte)1);
            w.Write7BitEncodedInt(1);
            w.Write("a.jsonl");
            w.Write(7L);
            w.Write7BitEncodedInt(1);
            w.Write7BitEncodedInt(0);
            w.Write7BitEncodedInt(0);
            w.Write7BitEncodedInt64(1);
            EventCodec.WriteEvent(w, e);
        }
        var row = (EventsPersisted)serializer.FromBinary(rowBuffer.ToArray(), "E1");
        Assert.Equal(e.TimestampMs, Assert.Single(row.Events).Key); // no order key: the event's time
        Assert.False(row.AwaitingScoring);
        Assert.Empty(row.Marks);

        // Snapshot layouts 2 and 3: behaviour only (3 adds a map of unconfirmed users, read as scored).
        var behavior = new UserBehaviorState();
        behavior.Apply(e);
        foreach (byte layout in new byte[] { 2, 3 })
        {
            using var buffer = new MemoryStream();
            using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                w.Write(layout);
                w.Write(5L);
                w.Write7BitEncodedInt(0);
                using var users = new MemoryStream();
                using (var u = new BinaryWriter(users, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    u.Write7BitEncodedInt(1);
                    u.Write(e.UserId);
                    behavior.WriteTo(u);
                }
                w.Write((int)users.Length);
                w.Write(users.ToArray());
                if (layout == 3)
                {
                    w.Write7BitEncodedInt(1);
                    w.Write(e.UserId);
                    w.Write7BitEncodedInt64(0);
                }
            }
            var back = (PartitionSnapshot)serializer.FromBinary(buffer.ToArray(), "S1");
            var (id, user) = Assert.Single(back.Users(32));
            Assert.Equal(e.UserId, id);
            Assert.Equal(behavior.Features(), user.Behavior.Features());
            Assert.Equal(1, user.ScoredThrough);
            Assert.Null(user.Tail);
        }
    }

    [Fact]
    public void A_layout_4_snapshot_is_still_read_its_unscored_events_without_device_or_ip()
    {
        var e = TestTraffic.Generated(users: 3).First().Event;
        var behavior = new UserBehaviorState(8);
        behavior.Apply(e);
        var features = behavior.Features();
        using var users = new MemoryStream();
        using (var u = new BinaryWriter(users, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            // A user record as layout 4 wrote it: behaviour, alert state, scored-through, one unscored event.
            u.Write7BitEncodedInt(1);
            u.Write(e.UserId);
            behavior.WriteTo(u);
            StateCodec.WriteAlertState(u, UserAlertState.None);
            u.Write7BitEncodedInt64(0);
            u.Write(true);
            u.Write7BitEncodedInt64(1);
            StateCodec.WriteEntries(u, Array.Empty<WindowEntry>());
            StateCodec.WriteEntries(u, [behavior.Window.Last]);
            u.Write(e.TimestampMs);
            u.Write((sbyte)-1);
            foreach (float f in features) u.Write(f);
        }
        var snapshot = new PartitionSnapshot(1, new Dictionary<SourceStream, long>(), users.ToArray(), Layout: 4);

        var (id, user) = Assert.Single(snapshot.Users(8));
        Assert.Equal(e.UserId, id);
        var tail = Assert.IsType<ScoringTail>(user.Tail);
        Assert.Equal(features, tail.Features.ToArray());
        Assert.Equal([null], tail.Devices);
        Assert.Equal([null], tail.Ips);
    }

    [Fact]
    public void The_partition_protocol_round_trips_across_nodes()
    {
        var inbox = _system.ActorOf(Props.Empty, "inbox");
        var events = TestTraffic.Generated(users: 5).Take(10).Select((e, i) => e with { OrderKey = e.Event.TimestampMs + i, ReceivedTicks = 1000 + i }).ToList();

        var batch = RoundTrip(new PartitionBatch(7, events, inbox));
        Assert.Equal(inbox, batch.ScoringInbox);
        Assert.Equal(events.Select(e => (e.Event.UserId, e.OrderKey, e.ReceivedTicks, e.Position)), batch.Events.Select(e => (e.Event.UserId, e.OrderKey, e.ReceivedTicks, e.Position)));

        var state = new PartitionState(7, UserPartitionSettings.Default, incarnation: 11);
        var requests = new List<ScoringRequest>();
        state.Apply(new EventsPersisted(state.Accept(events, [], []), true), new LiveRow(events.Select(e => e.ReceivedTicks).ToList(), inbox), requests);
        var request = requests[0] with { AdmitKeys = [1, 2], Alert = UserAlertState.None.WithAlert(5, "al-5") };
        var reply = RoundTrip(new PartitionReply(7, [request], 10, 1, 5, true) { DroppedKeys = [9], UndeliveredAlerts = [Alert] });
        var r = Assert.Single(reply.Requests);
        Assert.Equal((request.UserId, request.NewEvents, request.EventCount, request.Ticket, request.Alert), (r.UserId, r.NewEvents, r.EventCount, r.Ticket, r.Alert));
        Assert.Equal(request.Features, r.Features);
        Assert.Equal(request.OrderKeys, r.OrderKeys);
        Assert.Equal(request.AdmitKeys, r.AdmitKeys);
        Assert.Equal(request.Window, r.Window);
        Assert.Equal(request.Labels, r.Labels);
        Assert.NotNull(request.Devices);
        Assert.Equal(request.Devices, r.Devices);
        Assert.Equal(request.Ips, r.Ips);
        Assert.Equal((10, 1, 5, true), (reply.Accepted, reply.Duplicates, reply.NewUsers, reply.SnapshotTaken));
        Assert.Equal([9L], reply.DroppedKeys);
        Assert.Equal("al-1", Assert.Single(reply.UndeliveredAlerts).AlertId);

        var settle = RoundTrip(new SettleScoring(7, inbox, [new SettledUser("u", new RequestTicket(1, 2), 9, new ModelStateSlot("gru@1", 9, [1f, 2f]), request.Alert, [Alert])]));
        var s = Assert.Single(settle.Users);
        Assert.Equal((inbox, "u", new RequestTicket(1, 2), 9L, request.Alert), (settle.Origin, s.UserId, s.Ticket, s.ScoredThrough, s.Alert));
        Assert.Equal([1f, 2f], s.State!.Values);
        Assert.Equal("al-1", Assert.Single(s.Alerts).AlertId);

        Assert.Equal([new RequestTicket(3, 4)], RoundTrip(new ScoringSettled(7, [new RequestTicket(3, 4)])).Stale);
        Assert.Equal(request.Features, Assert.Single(RoundTrip(new FollowUps(7, [request])).Requests).Features);
        Assert.Equal([5L, 6L], RoundTrip(new HandedOver(7, [5, 6])).Keys);
        Assert.Equal(["a", "b"], RoundTrip(new AlertsDelivered(7, ["a", "b"])).AlertIds);
        Assert.Equal(new GetAlertState(7, "u"), RoundTrip(new GetAlertState(7, "u")));
        Assert.Equal(new UserAlertStateReply("u", true, request.Alert), RoundTrip(new UserAlertStateReply("u", true, request.Alert)));
        Assert.Equal(inbox, RoundTrip(new TakeRescoring(7, inbox)).ScoringInbox);
        Assert.Equal(new FlushScoredMarks(7), RoundTrip(new FlushScoredMarks(7)));
    }

    [Fact]
    public void An_unknown_manifest_or_layout_version_is_refused()
    {
        var serializer = Serializer;
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([1], "Z9"));
        Assert.Throws<InvalidDataException>(() => serializer.FromBinary([77, 0], "E1"));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([9, 0, 0, 0, 0, 0, 0, 0, 0, 0], "S1"));
    }
}
