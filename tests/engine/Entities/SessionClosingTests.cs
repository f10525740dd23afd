using Akka.Actor;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Persistence;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Entities;

/// <summary>
/// Where a partition closes sessions (README "Sessions in the stream"): before an event when the gap or the session field closes
/// the open one, right after an end type (logout), when the partition's watermark passes last + gap, and at the end
/// of the input; each close is an end marker scored like an event, and a replay of the journal (or a snapshot) closes
/// exactly the same sessions at the same places.
/// </summary>
public sealed class SessionClosingTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private const long Minute = 60_000;
    private static readonly UserPartitionSettings Settings = UserPartitionSettings.Default with { WindowSize = 8 };
    private static long s_offset;

    /// <summary>An event of <paramref name="user"/> at <paramref name="minutes"/> after T0; its order key is its time (an input in time order).</summary>
    private static IngestedEvent Event(string user, double minutes, string type = EventTypes.View, string? session = null, int? label = null)
    {
        long time = T0 + (long)(minutes * Minute);
        return new IngestedEvent(new UserEvent(user, time, type) { Item = "sku-1", Session = session, Label = label, Device = "d1" },
            new SourcePosition("file.jsonl", 0, Interlocked.Increment(ref s_offset), 9))
        {
            OrderKey = time,
        };
    }

    /// <summary>Accepts and applies a batch as the actor does after the write; returns the row, and the requests in <paramref name="requests"/>.</summary>
    private static EventsPersisted Batch(PartitionState state, IActorRef? inbox, List<ScoringRequest> requests, params IngestedEvent[] events)
    {
        var index = new List<int>();
        var row = new EventsPersisted(state.Accept(events, [], index), inbox is not null);
        state.Apply(row, new LiveRow(index.Select(_ => 0L).ToList(), inbox), requests);
        return row;
    }

    private static EventsPersisted EndOfInput(PartitionState state, IActorRef? inbox, List<ScoringRequest> requests, long watermarkMs)
    {
        var row = new EventsPersisted([], inbox is not null) { SessionsClosedAtMs = watermarkMs };
        state.Apply(row, new LiveRow([], inbox), requests);
        return row;
    }

    private static string[] Types(ScoringRequest r) => r.Window[r.FirstNewIndex..].Select(e => e.Type).ToArray();

    private static IActorRef Inbox() => new FakeRef("stream");

    [Fact]
    public void A_gap_longer_than_the_setting_closes_the_session_before_the_next_event_with_that_events_key()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var requests = new List<ScoringRequest>();
        Batch(state, Inbox(), requests, Event("a", 0), Event("a", 10), Event("a", 41));

        var r = Assert.Single(requests);
        Assert.Equal([EventTypes.View, EventTypes.View, EventTypes.SessionEnd, EventTypes.View], Types(r));
        Assert.Equal(4, r.NewEvents);
        Assert.Equal(4, r.EventCount); // entries: 3 events and 1 marker
        Assert.Equal(4 * FeatureSchema.Count, r.Features.Length);
        var marker = r.Window[r.FirstNewIndex + 2];
        Assert.Equal(T0 + 10 * Minute, marker.TimestampMs); // the session's last event's time
        Assert.Equal(T0 + 41 * Minute, r.OrderKeys[2]); // keyed by the event that closed it
        Assert.Equal([T0 + 41 * Minute], state.MarkerKeys); // admitted by the stream that sent the batch
        Assert.Equal(1, state.SessionsClosed);
        Assert.True(state.Users["a"].Behavior.SessionOpen);
        Assert.Null(r.Devices![2]); // a marker has no device
    }

    [Fact]
    public void An_end_type_closes_the_session_right_after_itself_and_the_next_event_opens_a_new_one()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var requests = new List<ScoringRequest>();
        Batch(state, Inbox(), requests, Event("a", 0, EventTypes.Login), Event("a", 1), Event("a", 2, EventTypes.Logout), Event("a", 3, EventTypes.Login));

        var r = Assert.Single(requests);
        Assert.Equal([EventTypes.Login, EventTypes.View, EventTypes.Logout, EventTypes.SessionEnd, EventTypes.Login], Types(r));
        Assert.Equal(T0 + 2 * Minute, r.OrderKeys[3]); // the logout's key
        Assert.True(state.Users["a"].Behavior.SessionOpen);
    }

    [Fact]
    public void A_change_of_the_session_field_closes_the_session_before_the_event()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var requests = new List<ScoringRequest>();
        Batch(state, Inbox(), requests, Event("a", 0, session: "s1"), Event("a", 1, session: "s1"), Event("a", 2, session: "s2"), Event("a", 3));

        // A missing session field does not close (only a change between two present values does).
        Assert.Equal([EventTypes.View, EventTypes.View, EventTypes.SessionEnd, EventTypes.View, EventTypes.View], Types(Assert.Single(requests)));
        Assert.Equal(1, state.SessionsClosed);
    }

    [Fact]
    public void The_watermark_closes_an_idle_session_when_another_users_event_passes_last_plus_gap_keyed_by_that_event()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var inbox = Inbox();
        var first = new List<ScoringRequest>();
        Batch(state, inbox, first, Event("a", 0), Event("b", 0.5), Event("b", 20));
        Assert.Equal(2, first.Count);
        Assert.Empty(state.MarkerKeys);

        var requests = new List<ScoringRequest>();
        Batch(state, inbox, requests, Event("c", 30.5)); // 30.5 min after a's last event: a is idle; b (10.5 min) is not
        Assert.Equal(["c"], requests.Select(r => r.UserId)); // a and b have requests in flight: a's marker follows its settlement
        Assert.Equal(T0 + (long)(30.5 * Minute), state.WatermarkMs);
        Assert.False(state.Users["a"].Behavior.SessionOpen);
        Assert.True(state.Users["b"].Behavior.SessionOpen);
        var tail = state.Users["a"].Tail!;
        Assert.Equal(EventTypes.SessionEnd, tail.Entries[^1].Type);
        Assert.Equal(T0, tail.Entries[^1].TimestampMs);
        Assert.Equal(T0 + (long)(30.5 * Minute), tail.Keys[^1]);
        Assert.Equal([T0 + (long)(30.5 * Minute)], state.MarkerKeys);

        // b's next event, 11 minutes after its last one, keeps its session; the watermark then closes b at 51 min.
        Batch(state, inbox, requests, Event("b", 31));
        Assert.True(state.Users["b"].Behavior.SessionOpen);
        Batch(state, inbox, requests, Event("c", 61.5));
        Assert.False(state.Users["b"].Behavior.SessionOpen);
        // c's own session was idle too (31 min): closed before its event, which opens the next one.
        Assert.True(state.Users["c"].Behavior.SessionOpen);
        Assert.Equal([EventTypes.View, EventTypes.SessionEnd, EventTypes.View], state.Users["c"].Behavior.Window.ToArray().Select(e => e.Type));
    }

    [Fact]
    public void The_end_of_the_input_closes_every_open_session_in_user_order_once_and_the_marker_carries_the_sessions_label()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var inbox = Inbox();
        var first = new List<ScoringRequest>();
        Batch(state, inbox, first, Event("b", 0, label: 0), Event("a", 1, label: 1), Event("a", 2, label: 0), Event("c", 3, EventTypes.Logout));
        var settled = new List<RequestTicket>();
        state.Settle(new SettleScoring(0, inbox, first.Select(r => new SettledUser(r.UserId, r.Ticket, r.EventCount, null, r.Alert, [])).ToList()),
            settled, [], []);

        var requests = new List<ScoringRequest>();
        EndOfInput(state, inbox, requests, T0 + 3 * Minute);

        Assert.Equal(["a", "b"], requests.Select(r => r.UserId)); // c's session ended with its logout
        Assert.All(requests, r => Assert.Equal([EventTypes.SessionEnd], Types(r)));
        Assert.All(requests, r => Assert.Equal([T0 + 3 * Minute], r.OrderKeys));
        Assert.Equal(new sbyte[] { 1 }, requests[0].Labels); // a's session held an anomalous event
        Assert.Equal(new sbyte[] { 0 }, requests[1].Labels);
        Assert.Equal(2, state.SessionsClosed);
        Assert.False(state.HasOpenSessions);

        // Nothing is open any more: a second end closes nothing.
        var again = new List<ScoringRequest>();
        EndOfInput(state, inbox, again, T0 + 3 * Minute);
        Assert.Empty(again);
        Assert.Equal(0, state.SessionsClosed);
    }

    [Fact]
    public void A_watermark_close_of_a_user_with_everything_scored_is_a_request_of_its_marker_alone_and_its_tail_grows_with_later_events()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var inbox = Inbox();
        var index = new List<int>();
        // a's first events are scored already (an ingest-only row): nothing of a is unscored when the watermark closes it.
        var first = new EventsPersisted(state.Accept([Event("a", 0), Event("a", 1)], [], index), AwaitingScoring: false);
        state.Apply(first, new LiveRow([0, 0], inbox), []);
        Assert.Null(state.Users["a"].Tail);

        var requests = new List<ScoringRequest>();
        Batch(state, inbox, requests, Event("c", 40));
        var marker = Assert.Single(requests, r => r.UserId == "a");
        Assert.Equal([EventTypes.SessionEnd], Types(marker));
        Assert.Equal([EventTypes.View, EventTypes.View], marker.Window[..marker.FirstNewIndex].Select(e => e.Type)); // the context before it
        Assert.Equal(3, marker.EventCount);
        Assert.Equal(FeatureSchema.Count, marker.Features.Length);
        Assert.Equal([T0 + 40 * Minute], marker.OrderKeys);

        // a comes back while the marker is in flight: the tail (sized for the marker) takes the new events and their rows.
        requests.Clear();
        Batch(state, inbox, requests, Event("a", 41), Event("a", 42), Event("a", 43));
        Assert.DoesNotContain(requests, r => r.UserId == "a");
        var tail = state.Users["a"].Tail!;
        Assert.Equal([EventTypes.SessionEnd, EventTypes.View, EventTypes.View, EventTypes.View], tail.Entries.Select(e => e.Type));
        Assert.Equal(state.Users["a"].Behavior.Features(), tail.Features[(3 * FeatureSchema.Count)..].ToArray());
        Assert.Equal(marker.Features, tail.Features[..FeatureSchema.Count].ToArray());
    }

    [Fact]
    public void A_marker_feature_row_is_the_users_state_as_of_the_sessions_end_and_the_profile_counts_events_only()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var requests = new List<ScoringRequest>();
        Batch(state, Inbox(), requests, Event("a", 0), Event("a", 1, EventTypes.Logout));
        var r = Assert.Single(requests);
        int f = FeatureSchema.Count;

        var replay = new UserBehaviorState(Settings.WindowSize);
        replay.Apply(Event("a", 0).Event);
        replay.Apply(Event("a", 1, EventTypes.Logout).Event);
        replay.CloseSession();
        Assert.Equal(replay.Features(), r.Features.AsSpan(2 * f, f).ToArray());
        Assert.Equal(2, state.Users["a"].Behavior.EventCount);
        Assert.Equal(3, state.Users["a"].Behavior.EntryCount);
    }

    [Fact]
    public void An_ingest_only_row_closes_the_same_sessions_and_counts_the_markers_as_scored()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        Batch(state, null, [], Event("a", 0), Event("a", 40), Event("b", 41, EventTypes.Logout));
        EndOfInput(state, null, [], T0 + 41 * Minute);

        var a = state.Users["a"];
        Assert.Null(a.Tail);
        Assert.Equal(4, a.Behavior.EntryCount); // view, <end>, view, <end>
        Assert.Equal(a.Behavior.EntryCount, a.ScoredThrough);
        Assert.Equal(2, state.Users["b"].Behavior.EntryCount);
    }

    [Fact]
    public void Replaying_the_journal_rows_or_restoring_a_snapshot_closes_the_same_sessions_at_the_same_places()
    {
        var inbox = Inbox();
        var live = new PartitionState(0, Settings, incarnation: 1);
        var rows = new List<EventsPersisted>();
        var events = Traffic();
        for (int i = 0; i < events.Count; i += 17) rows.Add(Batch(live, inbox, [], events.Skip(i).Take(17).ToArray()));
        long watermark = live.WatermarkMs;
        rows.Add(EndOfInput(live, inbox, [], watermark));
        Assert.InRange(live.Users.Values.Sum(u => u.Tail!.Entries.Count(e => SessionRule.IsEndMarker(e))), 20, int.MaxValue);

        // Recovery: the same rows applied without a stream.
        var recovered = new PartitionState(0, Settings, incarnation: 2);
        foreach (var row in rows) recovered.Apply(row, live: null, requests: null);
        AssertSame(live, recovered);

        // From a snapshot taken half-way (through the serializer), then the remaining rows.
        int half = rows.Count / 2;
        var before = new PartitionState(0, Settings, incarnation: 3);
        foreach (var row in rows.Take(half)) before.Apply(row, live: null, requests: null);
        var snapshot = RoundTrip(PartitionSnapshot.Capture(before));
        var restored = new PartitionState(0, Settings, incarnation: 4);
        snapshot.RestoreInto(restored, Settings.WindowSize);
        Assert.Equal(before.WatermarkMs, restored.WatermarkMs);
        foreach (var row in rows.Skip(half)) restored.Apply(row, live: null, requests: null);
        AssertSame(live, restored);
    }

    /// <summary>Users with sessions that end every way: gaps, logouts, session ids, the watermark and the end of the input.</summary>
    private static List<IngestedEvent> Traffic()
    {
        var random = new Random(5);
        var events = new List<IngestedEvent>();
        double minutes = 0;
        for (int i = 0; i < 600; i++)
        {
            minutes += random.NextDouble() * 3;
            string user = $"u{random.Next(12)}";
            string type = random.Next(10) switch { 0 => EventTypes.Logout, 1 => EventTypes.Login, _ => EventTypes.View };
            string? session = random.Next(4) == 0 ? $"s{random.Next(3)}" : null;
            events.Add(Event(user, minutes, type, session, label: random.Next(20) == 0 ? 1 : 0));
        }
        return events;
    }

    private static void AssertSame(PartitionState expected, PartitionState actual)
    {
        Assert.Equal(expected.WatermarkMs, actual.WatermarkMs);
        Assert.Equal(expected.Users.Keys.Order(StringComparer.Ordinal), actual.Users.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, user) in expected.Users)
        {
            var other = actual.Users[id];
            Assert.Equal(user.Behavior.EntryCount, other.Behavior.EntryCount);
            Assert.Equal(user.Behavior.SessionOpen, other.Behavior.SessionOpen);
            Assert.Equal(user.Behavior.Window.ToArray(), other.Behavior.Window.ToArray());
            Assert.Equal(user.SessionLabel, other.SessionLabel);
            Assert.Equal(user.Tail!.Entries, other.Tail!.Entries);
            Assert.Equal(user.Tail.Keys, other.Tail.Keys);
            Assert.Equal(user.Tail.Labels, other.Tail.Labels);
            Assert.Equal(user.Tail.Features.ToArray(), other.Tail.Features.ToArray());
        }
    }

    private static PartitionSnapshot RoundTrip(PartitionSnapshot snapshot)
    {
        using var system = ActorSystem.Create("session-snapshot-test");
        var serializer = new EngineSerializer((ExtendedActorSystem)system);
        return (PartitionSnapshot)serializer.FromBinary(serializer.ToBinary(snapshot), serializer.Manifest(snapshot));
    }

    private sealed class FakeRef(string name) : MinimalActorRef
    {
        public override ActorPath Path { get; } = new RootActorPath(new Address("akka", "test")) / name;

        public override IActorRefProvider Provider => throw new NotSupportedException();
    }
}
