using Akka.Actor;
using StreamDetect.Engine.Entities;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Entities;

/// <summary>The partition's rules without an actor: de-duplication, one request in flight per user, settling, rescoring.</summary>
public sealed class PartitionStateTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly UserPartitionSettings Settings = UserPartitionSettings.Default with { WindowSize = 4 };

    private static IngestedEvent Event(string user, long offset, string type = EventTypes.View, int? label = null) =>
        new(new UserEvent(user, T0 + offset * 1000, type) { Item = $"sku-{offset % 7}", Label = label }, new SourcePosition("file.jsonl", 0, offset, 9))
        {
            OrderKey = T0 + offset * 1000,
            ReceivedTicks = 100 + offset,
        };

    /// <summary>Accepts and applies a batch as the actor does after the write; returns the requests issued.</summary>
    private static List<ScoringRequest> Batch(PartitionState state, IActorRef? inbox, params IngestedEvent[] events)
    {
        var dropped = new List<long>();
        var index = new List<int>();
        var fresh = state.Accept(events, dropped, index);
        var requests = new List<ScoringRequest>();
        state.Apply(new EventsPersisted(fresh, inbox is not null), new LiveRow(index.Select(i => events[i].ReceivedTicks).ToList(), inbox), requests);
        return requests;
    }

    private static SettledUser Settled(ScoringRequest r, UserAlertState? alert = null, params AlertRecord[] alerts) =>
        new(r.UserId, r.Ticket, r.EventCount, new ModelStateSlot("m@1", r.EventCount, [r.EventCount]), alert ?? r.Alert, alerts);

    private static (List<RequestTicket> Stale, List<AlertRecord> Alerts, Dictionary<IActorRef, List<ScoringRequest>> FollowUps) Settle(PartitionState state, IActorRef? origin, params SettledUser[] users)
    {
        var stale = new List<RequestTicket>();
        var alerts = new List<AlertRecord>();
        var followUps = new Dictionary<IActorRef, List<ScoringRequest>>();
        state.Settle(new SettleScoring(0, origin, users), stale, alerts, followUps);
        return (stale, alerts, followUps);
    }

    private static IActorRef Inbox(string name) => new FakeRef(name);

    [Fact]
    public void A_batch_issues_one_request_per_user_in_first_seen_order_with_a_feature_row_order_key_and_label_per_event()
    {
        var state = new PartitionState(0, Settings, incarnation: 7);
        var requests = Batch(state, Inbox("s"), Event("b", 1), Event("a", 2), Event("b", 3, EventTypes.Cart, label: 1), Event("c", 4));

        Assert.Equal(["b", "a", "c"], requests.Select(r => r.UserId));
        var b = requests[0];
        Assert.Equal(2, b.NewEvents);
        Assert.Equal(2, b.EventCount);
        Assert.Equal(2 * FeatureSchema.Count, b.Features.Length);
        Assert.Equal([T0 + 1000, T0 + 3000], b.OrderKeys);
        Assert.Equal(new sbyte[] { -1, 1 }, b.Labels);
        Assert.Equal(1, b.Label);
        Assert.Equal(101, b.ReceivedTicks);
        Assert.Equal([EventTypes.View, EventTypes.Cart], b.Window.Select(w => w.Type));
        Assert.Null(requests[1].Labels);

        // The feature rows are those of the user's state after each event, exactly as replaying the events gives them.
        var replay = new UserBehaviorState(Settings.WindowSize);
        replay.Apply(Event("b", 1).Event);
        Assert.Equal(replay.Features(), b.Features.AsSpan(0, FeatureSchema.Count).ToArray());
        replay.Apply(Event("b", 3, EventTypes.Cart, label: 1).Event);
        Assert.Equal(replay.Features(), b.Features.AsSpan(FeatureSchema.Count).ToArray());
    }

    [Fact]
    public void A_user_has_one_request_in_flight_and_the_events_that_arrive_meanwhile_follow_when_it_is_settled()
    {
        var state = new PartitionState(0, Settings, incarnation: 7);
        var inbox = Inbox("stream");
        var first = Assert.Single(Batch(state, inbox, Event("a", 1), Event("a", 2)));
        Assert.Empty(Batch(state, inbox, Event("a", 3))); // in flight: waits
        Assert.Empty(Batch(state, inbox, Event("a", 4), Event("a", 5)));

        var cooled = UserAlertState.None.WithAlert(T0 + 2000, "al-1");
        var (stale, alerts, followUps) = Settle(state, inbox, Settled(first, cooled));

        Assert.Empty(stale);
        Assert.Empty(alerts);
        var next = Assert.Single(Assert.Single(followUps).Value);
        Assert.Equal(3, next.NewEvents);
        Assert.Equal(5, next.EventCount);
        Assert.Equal([T0 + 3000, T0 + 4000, T0 + 5000], next.OrderKeys);
        Assert.Equal(cooled, next.Alert); // the alert state the settlement brought
        Assert.Equal(2, next.State!.EventsFolded); // the model state after the first request
        // The window: the events before the new ones (at most the window size), then every new one.
        Assert.Equal([1000L, 2000, 3000, 4000, 5000], next.Window.Select(e => e.TimestampMs - T0));
        Assert.Equal(2, next.FirstNewIndex);
        Assert.Equal(2, state.Users["a"].ScoredThrough);
        Assert.NotEqual(first.Ticket, next.Ticket);

        // Settled too: nothing is left, nothing follows.
        var (_, _, none) = Settle(state, inbox, Settled(next));
        Assert.Empty(none);
        Assert.Null(state.Users["a"].Tail);
        Assert.Equal([new ScoredMark("a", 5)], state.TakeMarks()!);
    }

    [Fact]
    public void More_new_events_than_the_window_holds_all_travel_with_the_context_before_them()
    {
        var state = new PartitionState(0, Settings, incarnation: 7);
        var first = Assert.Single(Batch(state, Inbox("s"), Event("a", 1), Event("a", 2), Event("a", 3)));
        Settle(state, null, Settled(first));
        var burst = Assert.Single(Batch(state, Inbox("s"), Enumerable.Range(4, 10).Select(o => Event("a", o)).ToArray()));

        Assert.Equal(10, burst.NewEvents);
        Assert.Equal(13, burst.Window.Length); // 3 before (all there were) + 10 new
        Assert.Equal(10 * FeatureSchema.Count, burst.Features.Length);
    }

    [Fact]
    public void A_request_carries_at_most_max_request_events_and_the_rest_follow_its_settlement()
    {
        var state = new PartitionState(0, Settings with { MaxRequestEvents = 4 }, incarnation: 7);
        var first = Assert.Single(Batch(state, Inbox("s"), Enumerable.Range(1, 10).Select(o => Event("a", o)).ToArray()));
        Assert.Equal((4, 4L), (first.NewEvents, first.EventCount));
        Assert.Equal([1000L, 2000, 3000, 4000], first.OrderKeys.Select(k => k - T0));

        var (_, _, followUps) = Settle(state, Inbox("s"), Settled(first));
        var second = Assert.Single(Assert.Single(followUps).Value);
        Assert.Equal((4, 8L), (second.NewEvents, second.EventCount));
        Assert.Equal(4, second.FirstNewIndex); // the first request's events are its context now
        var (_, _, last) = Settle(state, Inbox("s"), Settled(second));
        Assert.Equal((2, 10L), (Assert.Single(Assert.Single(last).Value).NewEvents, Assert.Single(Assert.Single(last).Value).EventCount));
    }

    [Fact]
    public void A_settlement_for_a_ticket_the_partition_no_longer_expects_is_stale_and_changes_nothing()
    {
        var state = new PartitionState(0, Settings, incarnation: 7);
        var request = Assert.Single(Batch(state, Inbox("s"), Event("a", 1)));
        var forged = Settled(request) with { Ticket = new RequestTicket(99, 1) };
        var alert = new AlertRecord("al-x", "a", T0 + 1000, T0 + 1000, 1, [1, 2]);

        var (stale, alerts, _) = Settle(state, null, forged with { Alerts = [alert] });

        Assert.Equal([new RequestTicket(99, 1)], stale);
        Assert.Empty(alerts);
        Assert.Equal(0, state.Users["a"].ScoredThrough);
        Assert.True(state.Users["a"].HasRequestInFlight);
    }

    [Fact]
    public void Replays_are_dropped_with_their_order_keys_and_new_positions_after_them_are_kept()
    {
        var state = new PartitionState(0, Settings, incarnation: 7);
        Batch(state, null, Event("a", 1), Event("a", 2));
        var dropped = new List<long>();
        var fresh = state.Accept([Event("a", 1), Event("a", 2), Event("a", 3)], dropped, []);

        Assert.Equal([T0 + 1000, T0 + 2000], dropped);
        Assert.Equal(3, Assert.Single(fresh).Position.Offset);
        Assert.Equal(2, state.Duplicates);
    }

    [Fact]
    public void After_recovery_the_unscored_events_are_issued_once_with_the_rows_they_had_and_their_keys_to_admit()
    {
        // Live: two users, one settled, one still in flight when the engine "dies".
        var live = new PartitionState(0, Settings, incarnation: 1);
        var rows = new List<EventsPersisted>();
        var inbox = Inbox("s");
        List<ScoringRequest> Persist(params IngestedEvent[] events)
        {
            var fresh = live.Accept(events, [], []);
            var row = new EventsPersisted(fresh, true, live.TakeMarks());
            rows.Add(row);
            var requests = new List<ScoringRequest>();
            live.Apply(row, new LiveRow(events.Select(e => e.ReceivedTicks).ToList(), inbox), requests);
            return requests;
        }
        var original = Persist(Event("a", 1), Event("b", 2), Event("a", 3)).ToDictionary(r => r.UserId);
        Settle(live, inbox, Settled(original["a"]));
        Persist(Event("c", 4)); // its row carries a's confirmation

        // Recovery: the same rows, read back.
        var recovered = new PartitionState(0, Settings, incarnation: 2);
        foreach (var row in rows) recovered.Apply(row, live: null, requests: null);
        recovered.RecoveryCompleted();
        var requests = new List<ScoringRequest>();
        var undelivered = new List<AlertRecord>();
        recovered.TakeRescoring(inbox, requests, undelivered);

        var again = requests.ToDictionary(r => r.UserId);
        Assert.Equal(["b", "c"], again.Keys.Order());
        Assert.Equal(original["b"].Features, again["b"].Features);
        Assert.Equal(original["b"].OrderKeys, again["b"].OrderKeys);
        Assert.Equal(original["b"].OrderKeys, again["b"].AdmitKeys); // the new stream never read them
        Assert.Equal(0, again["b"].ReceivedTicks); // not measured across a restart

        requests.Clear();
        recovered.TakeRescoring(inbox, requests, undelivered);
        Assert.Empty(requests);
    }

    [Fact]
    public void Alerts_journaled_are_pending_until_delivered_and_set_the_users_cooldown_when_read_back()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        Batch(state, Inbox("s"), Event("a", 1));
        var alert = new AlertRecord("al-1", "a", T0 + 1000, T0 + 1000, 1, [(byte)'{', (byte)'}']);
        var row = new EventsPersisted([], true) { Alerts = [alert] };

        var recovered = new PartitionState(0, Settings, incarnation: 2);
        recovered.Apply(new EventsPersisted([new PersistedEvent(Event("a", 1).Event, Event("a", 1).Position, T0 + 1000)], true), null, null);
        recovered.Apply(row, null, null);
        recovered.RecoveryCompleted();

        Assert.Equal((T0 + 1000, "al-1"), (recovered.Users["a"].Alert.LastAlertMs, recovered.Users["a"].Alert.LastAlertId));
        var undelivered = new List<AlertRecord>();
        recovered.TakeRescoring(null, [], undelivered);
        Assert.Equal("al-1", Assert.Single(undelivered).AlertId);

        recovered.Alerts.Delivered(["al-1"]);
        Assert.Equal(0, recovered.Alerts.Count);
        Assert.Equal(["al-1"], recovered.Alerts.TakeDeliveries());
    }

    [Fact]
    public void Events_that_a_second_stream_delivers_while_the_user_is_in_flight_are_handed_over_and_admitted_by_it()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var a = Inbox("stream-a");
        var b = Inbox("stream-b");
        var first = Assert.Single(Batch(state, a, Event("u", 1)));
        Batch(state, a, Event("u", 2)); // pending, from a
        var handOvers = new List<HandOver>();
        var fresh = state.Accept([Event("u", 3)], [], []);
        state.Apply(new EventsPersisted(fresh, true), new LiveRow([0], b), [], handOvers); // the user's source moved to b

        var handOver = Assert.Single(handOvers);
        Assert.Equal(a, handOver.Inbox);
        Assert.Equal([T0 + 2000], handOver.Keys);

        var (_, _, followUps) = Settle(state, a, Settled(first));
        var (to, next) = Assert.Single(followUps);
        Assert.Equal(b, to);
        var request = Assert.Single(next);
        Assert.Equal(2, request.NewEvents);
        Assert.Equal([T0 + 2000], request.AdmitKeys!);
    }

    [Fact]
    public void When_the_stream_holding_a_request_is_gone_the_users_events_go_again_to_its_live_inbox_with_the_keys_no_live_stream_admitted()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var a = Inbox("stream-a");
        var b = Inbox("stream-b");
        var first = Assert.Single(Batch(state, a, Event("u", 1))); // in flight to a
        Batch(state, a, Event("u", 2)); // waits, delivered by a
        state.Apply(new EventsPersisted(state.Accept([Event("u", 3)], [], []), true), new LiveRow([0], b), [], []); // the user's source moved to b

        var followUps = new Dictionary<IActorRef, List<ScoringRequest>>();
        Assert.Equal(1, state.StreamGone(a, live: null, followUps)); // a's node died

        var (to, requests) = Assert.Single(followUps);
        Assert.Equal(b, to); // the user's inbox lives: it scores all three
        var again = Assert.Single(requests);
        Assert.Equal(3, again.NewEvents);
        Assert.Equal([T0 + 1000, T0 + 2000, T0 + 3000], again.OrderKeys);
        Assert.Equal([T0 + 1000, T0 + 2000], again.AdmitKeys!.Order()); // a admitted those; b read event 3 itself
        Assert.Equal(first.Ticket, Assert.Single(Settle(state, a, Settled(first)).Stale)); // nothing a decided counts any more

        var (stale, _, none) = Settle(state, b, Settled(again));
        Assert.Empty(stale);
        Assert.Empty(none);
        Assert.Null(state.Users["u"].Tail); // scored once, all of them
        Assert.Equal(3, state.Users["u"].ScoredThrough);
    }

    [Fact]
    public void When_the_users_own_stream_is_gone_its_unscored_events_go_to_the_live_inbox_given_or_else_to_the_next_stream_that_asks()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var a = Inbox("stream-a");
        var b = Inbox("stream-b");
        var c = Inbox("stream-c");
        Assert.Single(Batch(state, a, Event("u", 1))); // in flight to a
        Batch(state, a, Event("u", 2));
        Assert.Single(Batch(state, c, Event("v", 3))); // another stream's user: untouched
        Assert.Single(Batch(state, b, Event("w", 4)));

        var followUps = new Dictionary<IActorRef, List<ScoringRequest>>();
        Assert.Equal(1, state.StreamGone(a, live: b, followUps));
        var again = Assert.Single(Assert.Single(followUps).Value);
        Assert.Equal(("u", 2), (again.UserId, again.NewEvents));
        Assert.Equal([T0 + 1000, T0 + 2000], again.AdmitKeys!);
        Assert.Equal(b, state.Users["u"].Inbox); // its next events' requests follow there

        // With no live inbox known, the next stream that asks takes them.
        followUps.Clear();
        Assert.Equal(1, state.StreamGone(c, live: null, followUps));
        Assert.Empty(followUps);
        Assert.True(state.RescoringDue);
        var requests = new List<ScoringRequest>();
        state.TakeRescoring(b, requests, []);
        var v = Assert.Single(requests);
        Assert.Equal("v", v.UserId);
        Assert.Equal([T0 + 3000], v.AdmitKeys!);
        Assert.Equal(0, state.StreamGone(Inbox("stream-d"), live: b, followUps)); // a stream nobody used: nothing
    }

    [Fact]
    public void Handed_off_it_releases_the_events_each_stream_admitted_that_wait_behind_a_request_and_not_those_in_flight_or_still_to_admit()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var a = Inbox("stream-a");
        var b = Inbox("stream-b");
        Assert.Equal(["u", "v", "x"], Batch(state, a, Event("u", 1), Event("v", 2), Event("x", 3)).Select(r => r.UserId)); // all in flight to a
        Assert.Empty(Batch(state, a, Event("u", 4), Event("x", 5))); // wait, admitted by a
        state.Apply(new EventsPersisted(state.Accept([Event("u", 6)], [], []), true), new LiveRow([0], b), [], []); // u's source moved to b: 4 is b's to admit

        var releases = new Dictionary<IActorRef, List<long>>();
        state.HandOff(releases);

        Assert.Equal([T0 + 5000], releases[a]); // x's waiting event; u's 4 was handed to b, the requests in flight settle stale
        Assert.Equal([T0 + 6000], releases[b]); // b read 6; it never admitted 4
        Assert.Equal(2, releases.Count);
    }

    [Fact]
    public void A_settlement_sent_again_after_the_first_was_applied_is_neither_stale_nor_applied_twice()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var a = Inbox("stream-a");
        var request = Assert.Single(Batch(state, a, Event("u", 1)));
        var alert = new AlertRecord("al-1", "u", T0 + 1000, T0 + 1000, 1, [(byte)'{', (byte)'}']);
        var settled = Settled(request, request.Alert.WithAlert(alert.TimeMs, alert.AlertId), alert);
        Assert.Same(alert, Assert.Single(Settle(state, a, settled).Alerts));

        var stale = new List<RequestTicket>();
        var alerts = new List<AlertRecord>();
        Assert.Equal(1, state.Settle(new SettleScoring(0, a, [settled]), stale, alerts, []));
        Assert.Empty(stale); // its alerts are not dropped by the stream
        Assert.Empty(alerts); // nor journaled twice
    }

    [Fact]
    public void A_recovered_users_unscored_events_carry_their_keys_to_admit_even_when_a_fresh_batch_issues_them_first()
    {
        var live = new PartitionState(0, Settings, incarnation: 1);
        var fresh = live.Accept([Event("u", 1)], [], []);
        var row = new EventsPersisted(fresh, true);
        live.Apply(row, new LiveRow([0], Inbox("s")), []);

        var recovered = new PartitionState(0, Settings, incarnation: 2);
        recovered.Apply(row, live: null, requests: null);
        recovered.RecoveryCompleted();
        var request = Assert.Single(Batch(recovered, Inbox("t"), Event("u", 2))); // before any TakeRescoring
        Assert.Equal([T0 + 1000, T0 + 2000], request.OrderKeys);
        Assert.Equal([T0 + 1000], request.AdmitKeys!); // t read event 2 itself, never event 1
    }

    [Fact]
    public void A_user_whose_source_moves_twice_while_in_flight_hands_each_stream_back_only_what_it_admitted_and_the_last_admits_each_key_once()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        var a = Inbox("stream-a");
        var b = Inbox("stream-b");
        var c = Inbox("stream-c");
        var first = Assert.Single(Batch(state, a, Event("u", 1)));
        Batch(state, a, Event("u", 2));
        var handOvers = new List<HandOver>();
        state.Apply(new EventsPersisted(state.Accept([Event("u", 3)], [], []), true), new LiveRow([0], b), [], handOvers);
        state.Apply(new EventsPersisted(state.Accept([Event("u", 4)], [], []), true), new LiveRow([0], c), [], handOvers);

        Assert.Equal([a, b], handOvers.Select(h => h.Inbox));
        Assert.Equal([T0 + 2000], handOvers[0].Keys);
        Assert.Equal([T0 + 3000], handOvers[1].Keys); // b never admitted 2
        var (to, next) = Assert.Single(Settle(state, a, Settled(first)).FollowUps);
        Assert.Equal(c, to);
        Assert.Equal([T0 + 2000, T0 + 3000], Assert.Single(next).AdmitKeys!); // once each; c read 4 itself
    }

    [Fact]
    public void An_ingest_only_row_counts_its_events_as_scored()
    {
        var state = new PartitionState(0, Settings, incarnation: 1);
        Assert.Empty(Batch(state, null, Event("a", 1), Event("a", 2)));
        Assert.Equal(2, state.Users["a"].ScoredThrough);
        Assert.Null(state.Users["a"].Tail);
    }

    private sealed class FakeRef(string name) : MinimalActorRef
    {
        public override ActorPath Path { get; } = new RootActorPath(new Address("akka", "test")) / name;

        public override IActorRefProvider Provider => throw new NotSupportedException();
    }
}
