using Akka.Actor;
using Akka.TestKit.Xunit;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Persistence;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Entities;

public sealed class UserPartitionTests : TestKit
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public UserPartitionTests(ITestOutputHelper output)
        : base(Akka.Configuration.ConfigurationFactory.ParseString("""
            akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
            akka.actor.serializers.streamdetect = "StreamDetect.Engine.Persistence.EngineSerializer, streamdetect"
            akka.actor.serialization-bindings {
              "StreamDetect.Engine.Entities.EventsPersisted, streamdetect" = streamdetect
              "StreamDetect.Engine.Entities.PartitionSnapshot, streamdetect" = streamdetect
            }
            akka.actor.serialize-messages = off
            akka.persistence.journal.inmem.serialize-messages = on
            """), output: output)
    {
    }

    private static IngestedEvent Event(string user, long offset, string type = EventTypes.View, int? label = null) =>
        new(new UserEvent(user, T0 + offset * 1000, type) { Item = $"sku-{offset % 7}", Label = label }, new SourcePosition("file.jsonl", 0, offset, 9));

    private IActorRef Partition(int id, int snapshotEvery = 10_000, UserPartitionSettings? settings = null) =>
        Sys.ActorOf(UserPartition.Props(id, (settings ?? UserPartitionSettings.Default) with { SnapshotEvery = snapshotEvery, WindowSize = 8 }));

    private static ModelStateUpdate Scored(int partition, string user, long through) => new(partition, user, null) { ScoredThrough = through };

    private void Restart(ref IActorRef partition, Func<IActorRef> start)
    {
        Watch(partition);
        partition.Tell(PoisonPill.Instance);
        ExpectTerminated(partition);
        partition = start();
    }

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(6)] // a snapshot is taken with the second batch: the confirmations travel in it
    public void Events_persisted_but_not_confirmed_scored_when_the_entity_stopped_are_scored_again_with_its_first_answer(int snapshotEvery)
    {
        int id = 200 + snapshotEvery % 89;
        var partition = Partition(id, snapshotEvery);
        partition.Tell(new PartitionBatch(id, [Event("a", 1), Event("b", 2), Event("a", 3), Event("b", 4), Event("c", 5)]));
        Assert.Equal(["a", "b", "c"], ExpectMsg<PartitionReply>().Requests.Select(r => r.UserId));
        partition.Tell(Scored(id, "a", 2)); // a: both events scored
        partition.Tell(Scored(id, "b", 1)); // b: only the first (a request cut short), c: nothing confirmed
        partition.Tell(new PartitionBatch(id, [Event("d", 6)])); // its row carries the confirmations
        Assert.Equal("d", Assert.Single(ExpectMsg<PartitionReply>().Requests).UserId);

        Restart(ref partition, () => Partition(id, snapshotEvery));
        partition.Tell(new PartitionBatch(id, [Event("a", 1)])); // a replay: nothing new, but the answer carries the rescoring
        var reply = ExpectMsg<PartitionReply>();

        Assert.Equal(1, reply.Duplicates);
        var rescored = reply.Requests.ToDictionary(r => r.UserId);
        Assert.Equal(["b", "c", "d"], rescored.Keys.Order());
        Assert.Equal((1, 2L, 2), (rescored["b"].NewEvents, rescored["b"].EventCount, rescored["b"].Window.Length)); // the whole window
        Assert.Equal((1, 1L), (rescored["c"].NewEvents, rescored["c"].EventCount));
        Assert.Equal((1, 1L), (rescored["d"].NewEvents, rescored["d"].EventCount));

        // once: the next answer carries only its own users
        partition.Tell(new PartitionBatch(id, [Event("e", 7)]));
        Assert.Equal("e", Assert.Single(ExpectMsg<PartitionReply>().Requests).UserId);
    }

    [Fact]
    public void A_run_starting_takes_the_rescoring_once_even_when_no_batch_comes()
    {
        const int id = 213;
        var partition = Partition(id);
        partition.Tell(new PartitionBatch(id, [Event("a", 1), Event("b", 2)]));
        ExpectMsg<PartitionReply>();
        partition.Tell(Scored(id, "a", 1));
        partition.Tell(new PartitionBatch(id, [Event("c", 3)]));
        ExpectMsg<PartitionReply>();

        Restart(ref partition, () => Partition(id));
        partition.Tell(new TakeRescoring(id));
        Assert.Equal(["b", "c"], ExpectMsg<PartitionReply>().Requests.Select(r => r.UserId).Order());
        partition.Tell(new TakeRescoring(id));
        Assert.Empty(ExpectMsg<PartitionReply>().Requests);
        partition.Tell(new PartitionBatch(id, [Event("a", 1)]));
        Assert.Empty(ExpectMsg<PartitionReply>().Requests);
    }

    [Fact]
    public void A_user_with_unconfirmed_events_and_new_ones_gets_one_request_covering_both_after_recovery()
    {
        const int id = 210;
        var partition = Partition(id);
        partition.Tell(new PartitionBatch(id, [Event("a", 1), Event("a", 2), Event("a", 3)]));
        ExpectMsg<PartitionReply>();
        partition.Tell(Scored(id, "a", 1));
        partition.Tell(new PartitionBatch(id, [Event("z", 4)]));
        ExpectMsg<PartitionReply>();

        Restart(ref partition, () => Partition(id));
        partition.Tell(new PartitionBatch(id, [Event("a", 5, label: 1)]));
        var requests = ExpectMsg<PartitionReply>().Requests.Where(r => r.UserId == "a").ToList();

        var a = Assert.Single(requests);
        Assert.Equal(3, a.NewEvents); // events 2 and 3 (never confirmed) and 5 (new)
        Assert.Equal(4, a.EventCount);
        Assert.Equal(1, a.Label); // the new event's label stays
    }

    [Fact]
    public void Confirmations_that_no_batch_follows_are_journaled_on_their_own_after_the_flush_interval()
    {
        const int id = 211;
        var settings = UserPartitionSettings.Default with { ScoredMarksFlush = TimeSpan.FromMilliseconds(100) };
        var partition = Partition(id, settings: settings);
        partition.Tell(new PartitionBatch(id, [Event("a", 1), Event("b", 2)]));
        ExpectMsg<PartitionReply>();
        partition.Tell(Scored(id, "a", 1));
        partition.Tell(Scored(id, "b", 1));
        Thread.Sleep(500); // no batch comes: the timer writes a row with the confirmations alone

        Restart(ref partition, () => Partition(id, settings: settings));
        partition.Tell(new PartitionBatch(id, [Event("a", 1)]));
        var reply = ExpectMsg<PartitionReply>();
        Assert.Equal(1, reply.Duplicates);
        Assert.Empty(reply.Requests);
    }

    [Fact]
    public void With_rescoring_off_nothing_is_scored_again_after_recovery()
    {
        const int id = 212;
        var settings = UserPartitionSettings.Default with { RescoreAfterCrash = false };
        var partition = Partition(id, settings: settings);
        partition.Tell(new PartitionBatch(id, [Event("a", 1), Event("b", 2)]));
        ExpectMsg<PartitionReply>();

        Restart(ref partition, () => Partition(id, settings: settings));
        partition.Tell(new PartitionBatch(id, [Event("a", 1)]));
        Assert.Empty(ExpectMsg<PartitionReply>().Requests);
    }

    [Fact]
    public void A_batch_is_answered_after_persistence_with_one_request_per_user_in_first_seen_order()
    {
        var partition = Partition(1);
        partition.Tell(new PartitionBatch(1, [Event("b", 1), Event("a", 2), Event("b", 3, EventTypes.Cart, label: 1), Event("c", 4)]));

        var reply = ExpectMsg<PartitionReply>();
        Assert.Equal(4, reply.Accepted);
        Assert.Equal(0, reply.Duplicates);
        Assert.Equal(3, reply.NewUsers);
        Assert.Equal(["b", "a", "c"], reply.Requests.Select(r => r.UserId));
        var b = reply.Requests[0];
        Assert.Equal(2, b.NewEvents);
        Assert.Equal(2, b.EventCount);
        Assert.Equal([EventTypes.View, EventTypes.Cart], b.Window.Select(w => w.Type));
        Assert.Equal(1, b.Label);
        Assert.Null(reply.Requests[1].Label);
    }

    [Fact]
    public void Replayed_positions_are_dropped_and_counted_and_new_ones_after_them_are_kept()
    {
        var partition = Partition(2);
        partition.Tell(new PartitionBatch(2, [Event("a", 1), Event("a", 2)]));
        ExpectMsg<PartitionReply>();

        partition.Tell(new PartitionBatch(2, [Event("a", 1), Event("a", 2), Event("a", 3)]));
        var reply = ExpectMsg<PartitionReply>();

        Assert.Equal(2, reply.Duplicates);
        Assert.Equal(1, reply.Accepted);
        Assert.Equal(3, Assert.Single(reply.Requests).EventCount);
    }

    [Fact]
    public void A_position_of_another_file_epoch_is_new_input_not_a_replay()
    {
        var partition = Partition(3);
        partition.Tell(new PartitionBatch(3, [Event("a", 1)]));
        ExpectMsg<PartitionReply>();

        var regenerated = Event("a", 1) with { Position = new SourcePosition("file.jsonl", 0, 1, Epoch: 10) };
        partition.Tell(new PartitionBatch(3, [regenerated]));
        Assert.Equal(1, ExpectMsg<PartitionReply>().Accepted);
    }

    [Fact]
    public void The_state_is_recovered_exactly_after_the_entity_stops_with_and_without_snapshots()
    {
        foreach (int snapshotEvery in new[] { 1_000_000, 5 })
        {
            int id = 100 + snapshotEvery % 97;
            var partition = Partition(id, snapshotEvery);
            for (int batch = 0; batch < 6; batch++)
            {
                partition.Tell(new PartitionBatch(id, Enumerable.Range(batch * 4 + 1, 4).Select(o => Event($"u{o % 3}", o)).ToList()));
                ExpectMsg<PartitionReply>();
            }
            partition.Tell(new GetUserStates(id));
            var before = ExpectMsg<UserStates>();
            Watch(partition);
            partition.Tell(PoisonPill.Instance);
            ExpectTerminated(partition);

            var recovered = Partition(id, snapshotEvery);
            recovered.Tell(new GetUserStates(id));
            var after = ExpectMsg<UserStates>();

            Assert.Equal(before.States.Keys.Order(), after.States.Keys.Order());
            foreach (string user in before.States.Keys)
                Assert.Equal(before.Read(user).Features(), after.Read(user).Features());

            // and it still recognises replays of what it persisted before the stop
            recovered.Tell(new PartitionBatch(id, [Event("u1", 24)]));
            Assert.Equal(1, ExpectMsg<PartitionReply>().Duplicates);
        }
    }

    [Fact]
    public void A_current_model_state_is_handed_back_with_only_the_new_events_and_their_predecessor_and_a_stale_one_is_ignored()
    {
        var partition = Partition(5);
        partition.Tell(new PartitionBatch(5, [Event("a", 1), Event("a", 2), Event("a", 3)]));
        var first = Assert.Single(ExpectMsg<PartitionReply>().Requests);
        Assert.Equal(3, first.Window.Length); // no state yet: the whole window
        Assert.Null(first.State);

        partition.Tell(new ModelStateUpdate(5, "a", new ModelStateSlot("lstm@1", 3, [0.5f])));
        partition.Tell(new ModelStateUpdate(5, "a", new ModelStateSlot("lstm@1", 2, [9f]))); // older: ignored
        partition.Tell(new PartitionBatch(5, [Event("a", 4)]));
        var second = Assert.Single(ExpectMsg<PartitionReply>().Requests);

        Assert.Equal("lstm@1", second.State!.ModelKey);
        Assert.Equal([0.5f], second.State.Values);
        Assert.Equal(1, second.NewEvents);
        // the state covers everything before: only the new event travels, with the event before it (its gap and item relation)
        Assert.Equal(2, second.Window.Length);
        Assert.Equal([T0 + 3000, T0 + 4000], second.Window.Select(e => e.TimestampMs));
        Assert.Equal(4, second.EventCount);

        // a state that has not seen the latest events is not current: the whole window travels again
        partition.Tell(new PartitionBatch(5, [Event("a", 5)]));
        var third = Assert.Single(ExpectMsg<PartitionReply>().Requests);
        Assert.Equal(5, third.Window.Length);
    }

    [Fact]
    public void Snapshots_are_taken_every_N_events()
    {
        var partition = Partition(4, snapshotEvery: 3);
        partition.Tell(new PartitionBatch(4, [Event("a", 1), Event("a", 2)]));
        Assert.False(ExpectMsg<PartitionReply>().SnapshotTaken);
        partition.Tell(new PartitionBatch(4, [Event("a", 3)]));
        Assert.True(ExpectMsg<PartitionReply>().SnapshotTaken);
        partition.Tell(new GetPartitionStats(4));
        var stats = ExpectMsg<PartitionStats>();
        Assert.Equal(1, stats.Snapshots);
        Assert.Equal(2, stats.RowsWritten);
        Assert.Equal(3, stats.EventsPersisted);
    }
}
