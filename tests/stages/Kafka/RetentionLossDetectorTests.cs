using Confluent.Kafka;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class RetentionLossDetectorTests
{
    private static readonly TopicPartition P0 = new("events", 0);
    private static readonly TopicPartition P1 = new("events", 1);

    private static Func<TopicPartition, long?> LogStart(long? start) => _ => start;

    private static Func<TopicPartition, long?> NeverAsked => p => throw new InvalidOperationException($"log start of {p} asked without a gap");

    [Fact]
    public void Detector_must_count_the_records_between_the_committed_offset_and_the_log_start()
    {
        var detector = new RetentionLossDetector();
        detector.Assign(P0, 100);
        var gap = detector.Observe(P0, 160, LogStart(160));
        Assert.NotNull(gap);
        Assert.Equal((100L, 60L, 160L), (gap.From, gap.Count, gap.LogStart));
        Assert.Equal(60, detector.Total);
        Assert.Equal(60, detector.PerPartition[P0]);
    }

    [Fact]
    public void Detector_must_count_nothing_when_reading_goes_on_where_it_was_expected()
    {
        var detector = new RetentionLossDetector();
        detector.Assign(P0, 5);
        foreach (long offset in new long[] { 5, 6, 7, 8 }) Assert.Null(detector.Observe(P0, offset, NeverAsked));
        Assert.Equal(0, detector.Total);
    }

    [Fact]
    public void Detector_must_not_count_holes_that_are_not_retention()
    {
        // Offsets 3 and 4 are a transaction marker / compacted away: the log still starts at 0.
        var detector = new RetentionLossDetector();
        detector.Assign(P0, 0);
        foreach (long offset in new long[] { 0, 1, 2 }) Assert.Null(detector.Observe(P0, offset, NeverAsked));
        Assert.Null(detector.Observe(P0, 5, LogStart(0)));
        Assert.Equal(0, detector.Total);
    }

    [Fact]
    public void Detector_must_count_only_up_to_the_log_start_when_the_gap_goes_further()
    {
        // Offsets 10..29 were deleted, 30..34 were compacted away: 20 lost, not 25.
        var detector = new RetentionLossDetector();
        detector.Assign(P0, 10);
        Assert.Equal(20, detector.Observe(P0, 35, LogStart(30))!.Count);
    }

    [Fact]
    public void Detector_must_count_a_loss_in_the_middle_of_a_run()
    {
        var detector = new RetentionLossDetector();
        detector.Assign(P0, 0);
        Assert.Null(detector.Observe(P0, 0, NeverAsked));
        Assert.Null(detector.Observe(P0, 1, NeverAsked));
        var gap = detector.Observe(P0, 500, LogStart(500));
        Assert.Equal((2L, 498L), (gap!.From, gap.Count));
        Assert.Null(detector.Observe(P0, 501, NeverAsked));
        Assert.Equal(498, detector.Total);
    }

    [Fact]
    public void Detector_must_count_nothing_where_the_expected_offset_is_unknown_until_a_record_sets_it()
    {
        // A group without a commit that starts at the latest record: skipping is what it asked for.
        var detector = new RetentionLossDetector();
        detector.Assign(P0, null);
        Assert.Null(detector.Observe(P0, 1000, NeverAsked));
        Assert.Null(detector.Observe(P0, 1001, NeverAsked));
        Assert.Equal(15, detector.Observe(P0, 1017, LogStart(1017))!.Count);
    }

    [Fact]
    public void Detector_must_count_nothing_when_the_log_start_is_unknown()
    {
        var detector = new RetentionLossDetector();
        detector.Assign(P0, 0);
        Assert.Null(detector.Observe(P0, 50, LogStart(null)));
        Assert.Equal(0, detector.Total);
    }

    [Fact]
    public void Detector_must_keep_partitions_apart_and_forget_a_revoked_one()
    {
        var detector = new RetentionLossDetector();
        detector.Assign(P0, 0);
        detector.Assign(P1, 40);
        Assert.Equal(10, detector.Observe(P0, 10, LogStart(10))!.Count);
        Assert.Equal(2, detector.Observe(P1, 42, LogStart(42))!.Count);
        detector.Remove(P0);
        Assert.Null(detector.Observe(P0, 90, NeverAsked));
        Assert.Equal(12, detector.Total);
        Assert.Equal(2, detector.PerPartition[P1]);
    }

    [Fact]
    public void A_gap_must_name_the_topic_partition_offsets_and_count()
    {
        var gap = new RetentionGap(new TopicPartition("events", 3), 100, 60, 160);
        Assert.Equal("60 records of topic 'events' partition 3 were deleted by retention before they were read (offsets 100 to 159; the log now starts at 160)", gap.ToString());
    }
}
