using Confluent.Kafka;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class OffsetTrackerTests
{
    private static readonly TopicPartition P0 = new("events", 0);
    private static readonly TopicPartition P1 = new("events", 1);

    private static OffsetTracker Tracker(params (TopicPartition Partition, int Epoch)[] partitions)
    {
        var tracker = new OffsetTracker();
        foreach (var (partition, epoch) in partitions) tracker.Assign(partition, epoch);
        return tracker;
    }

    private static void Register(OffsetTracker tracker, TopicPartition partition, int epoch, params long[] offsets)
    {
        foreach (long offset in offsets) Assert.True(tracker.Register(partition, epoch, offset));
    }

    private static Dictionary<int, long> Pending(OffsetTracker tracker) =>
        tracker.PendingCommits().ToDictionary(t => t.Partition.Value, t => t.Offset.Value);

    [Fact]
    public void Tracker_must_commit_nothing_before_anything_is_done()
    {
        var tracker = Tracker((P0, 1));
        Assert.Empty(tracker.PendingCommits());
        Register(tracker, P0, 1, 10, 11, 12);
        Assert.Equal(10, tracker.CommitOffset(P0)); // == the committed position it started from: nothing new
        Assert.Equal(3, tracker.Outstanding(P0));
    }

    [Fact]
    public void Tracker_must_commit_past_records_completed_in_order()
    {
        var tracker = Tracker((P0, 1));
        Register(tracker, P0, 1, 0, 1, 2);
        Assert.True(tracker.Complete(P0, 1, 0));
        Assert.True(tracker.Complete(P0, 1, 1));
        Assert.Equal(new Dictionary<int, long> { [0] = 2 }, Pending(tracker));
        Assert.True(tracker.Complete(P0, 1, 2));
        Assert.Equal(new Dictionary<int, long> { [0] = 3 }, Pending(tracker));
        Assert.Equal(0, tracker.Outstanding(P0));
    }

    [Fact]
    public void Tracker_must_hold_the_commit_at_the_first_unfinished_record_when_completions_come_out_of_order()
    {
        var tracker = Tracker((P0, 1));
        Register(tracker, P0, 1, 0, 1, 2, 3, 4);
        tracker.Complete(P0, 1, 3);
        tracker.Complete(P0, 1, 1);
        tracker.Complete(P0, 1, 4);
        Assert.Empty(tracker.PendingCommits()); // 0 is not done: nothing may be committed yet
        Assert.Equal(0, tracker.CommitOffset(P0));
        tracker.Complete(P0, 1, 0);
        Assert.Equal(2, tracker.CommitOffset(P0)); // 0,1 done; 2 is not
        tracker.Complete(P0, 1, 2);
        Assert.Equal(5, tracker.CommitOffset(P0)); // everything done: one past the last emitted
    }

    [Fact]
    public void Tracker_must_step_over_offsets_that_were_never_emitted()
    {
        // Kafka logs have holes (transaction markers, compaction): offsets are not contiguous.
        var tracker = Tracker((P0, 1));
        Register(tracker, P0, 1, 5, 9, 10, 20);
        tracker.Complete(P0, 1, 9);
        tracker.Complete(P0, 1, 5);
        Assert.Equal(10, tracker.CommitOffset(P0));
        Assert.False(tracker.Complete(P0, 1, 15)); // never emitted: ignored, not remembered
        tracker.Complete(P0, 1, 20);
        Assert.Equal(10, tracker.CommitOffset(P0));
        tracker.Complete(P0, 1, 10);
        Assert.Equal(21, tracker.CommitOffset(P0));
    }

    [Fact]
    public void Tracker_must_ignore_duplicate_unknown_and_stale_completions()
    {
        var tracker = Tracker((P0, 1));
        Register(tracker, P0, 1, 0, 1);
        Assert.True(tracker.Complete(P0, 1, 1));
        Assert.False(tracker.Complete(P0, 1, 1));  // duplicate
        Assert.False(tracker.Complete(P0, 1, 7));  // beyond what was emitted
        Assert.False(tracker.Complete(P1, 1, 0));  // partition not owned
        Assert.False(tracker.Complete(P0, 2, 0));  // another epoch
        Assert.Equal(0, tracker.CommitOffset(P0));
        Assert.True(tracker.Complete(P0, 1, 0));
        Assert.False(tracker.Complete(P0, 1, 0));  // below the done prefix now
        Assert.Equal(2, tracker.CommitOffset(P0));
    }

    [Fact]
    public void Tracker_must_keep_partitions_independent()
    {
        var tracker = Tracker((P0, 1), (P1, 2));
        Register(tracker, P0, 1, 0, 1);
        Register(tracker, P1, 2, 100, 101);
        tracker.Complete(P1, 2, 100);
        tracker.Complete(P0, 1, 1);
        Assert.Equal(new Dictionary<int, long> { [1] = 101 }, Pending(tracker));
    }

    [Fact]
    public void Tracker_must_offer_each_commit_once_and_again_after_a_failed_commit()
    {
        var tracker = Tracker((P0, 1));
        Register(tracker, P0, 1, 0, 1, 2);
        tracker.Complete(P0, 1, 0);
        var first = tracker.PendingCommits();
        Assert.Single(first);
        // The commit failed: nothing recorded, so it is offered again.
        Assert.Single(tracker.PendingCommits());
        tracker.Committed(first);
        Assert.Empty(tracker.PendingCommits());
        tracker.Complete(P0, 1, 1);
        Assert.Equal(new Dictionary<int, long> { [0] = 2 }, Pending(tracker));
    }

    [Fact]
    public void Tracker_must_forget_a_revoked_partition_and_ignore_completions_from_before_a_reassignment()
    {
        var tracker = Tracker((P0, 1), (P1, 2));
        Register(tracker, P0, 1, 0, 1, 2);
        Register(tracker, P1, 2, 0);
        tracker.Complete(P0, 1, 0);
        Assert.Equal(1, tracker.PendingCommits([P0]).Single().Offset.Value); // revocation commits what is done...
        tracker.Remove(P0);                                                   // ...then forgets the partition
        Assert.False(tracker.Complete(P0, 1, 1));                             // in-flight work of the revoked partition
        Assert.DoesNotContain(tracker.PendingCommits(), c => c.TopicPartition == P0);

        tracker.Assign(P0, 3); // the same partition comes back: replay starts at the committed offset 1
        Register(tracker, P0, 3, 1, 2);
        Assert.False(tracker.Complete(P0, 1, 2)); // the old ownership's completion must not count
        Assert.True(tracker.Complete(P0, 3, 1));
        Assert.Equal(2, tracker.CommitOffset(P0));
        Assert.Equal(1, tracker.Outstanding(P0));
    }

    [Fact]
    public void Tracker_must_refuse_records_of_a_partition_it_does_not_own_and_offsets_that_go_backwards()
    {
        var tracker = Tracker((P0, 1));
        Assert.False(tracker.Register(P1, 1, 0));
        Assert.False(tracker.Register(P0, 9, 0));
        Register(tracker, P0, 1, 4);
        Assert.Throws<InvalidOperationException>(() => tracker.Register(P0, 1, 4));
    }

    [Fact]
    public void Tracker_must_stay_correct_through_many_out_of_order_completions_and_buffer_growth()
    {
        var random = new Random(42);
        var tracker = Tracker((P0, 1));
        var emitted = new List<long>();
        var done = new HashSet<long>();
        long offset = 0;
        for (int round = 0; round < 2000; round++)
        {
            int emit = random.Next(0, 8);
            for (int i = 0; i < emit; i++)
            {
                offset += random.Next(1, 3); // holes in the log
                tracker.Register(P0, 1, offset);
                emitted.Add(offset);
            }
            var notDone = emitted.Where(o => !done.Contains(o)).ToList();
            int complete = Math.Min(notDone.Count, random.Next(0, 8));
            foreach (long o in notDone.OrderBy(_ => random.Next()).Take(complete))
            {
                Assert.True(tracker.Complete(P0, 1, o));
                done.Add(o);
            }
            // Model: the first emitted offset not done, or one past the last emitted.
            long? expected = emitted.Count == 0 ? null
                : emitted.FirstOrDefault(o => !done.Contains(o), emitted[^1] + 1);
            Assert.Equal(expected, tracker.CommitOffset(P0));
            Assert.Equal(emitted.Count - done.Count, tracker.Outstanding(P0));
        }
    }
}
