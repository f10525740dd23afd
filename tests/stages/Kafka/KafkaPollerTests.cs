using Akka.Event;
using Confluent.Kafka;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

/// <summary>
/// <see cref="KafkaPoller"/> against a <see cref="ScriptedConsumer"/>: rebalance callbacks run inside
/// Consume, so the scripts change the partitions' epochs between the records of one batch.
/// </summary>
public sealed class KafkaPollerTests
{
    private const string Topic = "events";
    private static readonly TopicPartition Partition0 = new(Topic, 0);
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    // The session's epochs: the current assignment's number per owned partition, 0 when not owned.
    private readonly Dictionary<TopicPartition, int> _epochs = new();

    private int EpochOf(TopicPartition partition) => _epochs.TryGetValue(partition, out int epoch) ? epoch : 0;

    private static KafkaPoller Poller(ScriptedConsumer consumer) =>
        new(consumer, NoLogger.Instance, "g", new RepeatedLogFilter(TimeSpan.Zero));

    [Fact]
    public void Poller_must_give_each_record_the_epoch_of_its_partition_when_it_was_consumed_when_the_partition_is_revoked_and_assigned_again_within_one_batch()
    {
        // CI: "offset 598 registered after 598". Offset 598 of partition 0 was consumed, then (inside the next
        // Consume) the partition was revoked and assigned again, and librdkafka fetched it again from its
        // commit: 598 came back. Stamped with the epoch at the end of the batch, both were epoch 2.
        _epochs[Partition0] = 1;
        var consumer = new ScriptedConsumer()
            .Then(ScriptedConsumer.Record(Topic, 0, 598))
            .Then(ScriptedConsumer.Record(Topic, 0, 598), during: () =>
            {
                _epochs.Remove(Partition0); // revoked
                _epochs[Partition0] = 2; // assigned again
            })
            .Then(ScriptedConsumer.Record(Topic, 0, 599));

        var batch = Poller(consumer).Poll(PollTimeout, room: 10, EpochOf);

        Assert.Equal(
            [(598L, 1), (598L, 2), (599L, 2)],
            batch.Select(p => (p.Result.Offset.Value, p.Epoch)).ToArray());
        Assert.All(batch, p => Assert.Equal(Partition0, p.Result.TopicPartition));
        // Blocks for the first record only, then takes what is there until a call returns nothing.
        Assert.Equal([PollTimeout, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero], consumer.ConsumeTimeouts);
    }

    [Fact]
    public void Poller_must_give_a_record_consumed_after_its_partition_was_revoked_and_a_record_of_a_partition_assigned_during_the_wait_their_epochs_then()
    {
        var partition1 = new TopicPartition(Topic, 1);
        var consumer = new ScriptedConsumer()
            // The first assignment arrives during the blocking wait, with a record of it.
            .Then(ScriptedConsumer.Record(Topic, 0, 10), during: () =>
            {
                _epochs[Partition0] = 1;
                _epochs[partition1] = 2;
            })
            .Then(ScriptedConsumer.Record(Topic, 1, 20))
            // Partition 0 revoked; a record librdkafka had already queued for it still comes out.
            .Then(ScriptedConsumer.Record(Topic, 0, 11), during: () => _epochs.Remove(Partition0))
            .Then(ScriptedConsumer.Record(Topic, 1, 21));

        var batch = Poller(consumer).Poll(PollTimeout, room: 10, EpochOf);

        Assert.Equal(
            [(0, 10L, 1), (1, 20L, 2), (0, 11L, 0), (1, 21L, 2)],
            batch.Select(p => (p.Result.Partition.Value, p.Result.Offset.Value, p.Epoch)).ToArray());
    }

    [Fact]
    public void Poller_must_stop_consuming_when_the_batch_has_room_records_and_skip_end_of_partition_events()
    {
        _epochs[Partition0] = 1;
        var consumer = new ScriptedConsumer()
            .Then(ScriptedConsumer.Record(Topic, 0, 1))
            .Then(ScriptedConsumer.EndOfPartition(Topic, 0, 2))
            .Then(ScriptedConsumer.Record(Topic, 0, 2))
            .Then(ScriptedConsumer.Record(Topic, 0, 3));
        var poller = Poller(consumer);

        var first = poller.Poll(PollTimeout, room: 2, EpochOf).Select(p => p.Result.Offset.Value).ToArray();
        Assert.Equal([1L, 2L], first);
        Assert.Equal(1, consumer.Unplayed); // offset 3 not consumed: a record consumed is never put back

        var second = poller.Poll(PollTimeout, room: 2, EpochOf).Select(p => (p.Result.Offset.Value, p.Epoch)).ToArray();
        Assert.Equal([(3L, 1)], second);
    }
}
