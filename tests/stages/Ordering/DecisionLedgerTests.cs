using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Tests.Ordering;

public sealed class DecisionLedgerTests
{
    private static readonly SourceStream File = new("in.jsonl", 0, 1);
    private static readonly SourceStream Other = new("kafka:events", 1, 0);

    [Fact]
    public void An_order_key_is_the_streams_event_time_progress_so_it_never_decreases_along_a_stream()
    {
        var ledger = new DecisionLedger();
        Assert.Equal(5_000, ledger.Admit(File, 5_000));
        Assert.Equal(5_000, ledger.Admit(File, 3_000)); // late: takes the progress
        Assert.Equal(9_000, ledger.Admit(File, 9_000));
        Assert.Equal(2_000, ledger.Admit(Other, 2_000)); // streams progress on their own
    }

    [Fact]
    public void Keys_below_the_frontier_are_raised_to_it()
    {
        var ledger = new DecisionLedger();
        ledger.AdvanceFrontier(10_000);
        Assert.Equal(10_000, ledger.Admit(Other, 4_000));
        ledger.AdvanceFrontier(5_000); // never moves back
        Assert.Equal(10_000, ledger.Frontier);
    }

    [Fact]
    public void Everything_before_a_key_is_decided_only_when_every_admitted_event_below_it_is()
    {
        var ledger = new DecisionLedger();
        long a = ledger.Admit(File, 1_000), b = ledger.Admit(File, 2_500), c = ledger.Admit(File, 7_000);
        Assert.False(ledger.AllDecidedBefore(3_000));
        Assert.True(ledger.AllDecidedBefore(1_000)); // nothing below 1 s
        ledger.Decided(a);
        Assert.False(ledger.AllDecidedBefore(3_000));
        ledger.Decided(b);
        Assert.True(ledger.AllDecidedBefore(3_000));
        Assert.False(ledger.AllDecidedBefore(8_000));
        ledger.Decided(c);
        Assert.True(ledger.AllDecidedBefore(long.MaxValue / 2));
        Assert.Equal(3, ledger.Unsettled);
    }

    [Fact]
    public void Settled_through_a_key_covers_its_whole_second_and_dropped_events_count_as_settled()
    {
        var ledger = new DecisionLedger();
        long a = ledger.Admit(File, 1_100), b = ledger.Admit(File, 1_900), c = ledger.Admit(File, 4_000);
        ledger.Decided(a);
        ledger.Settled(a);
        Assert.False(ledger.AllSettledThrough(a)); // b shares a's second and is not settled
        ledger.Dropped(b); // a replay: nothing waits for it
        Assert.True(ledger.AllSettledThrough(a));
        Assert.False(ledger.AllSettledThrough(c));
        Assert.Equal(1, ledger.Unsettled);
        Assert.Equal(1, ledger.Undecided);
    }

    [Fact]
    public void Keys_given_elsewhere_are_counted_like_admitted_ones()
    {
        var ledger = new DecisionLedger();
        ledger.AdmitKey(60_000);
        Assert.False(ledger.AllDecidedBefore(61_000));
        ledger.Decided(60_000);
        ledger.Settled(60_000);
        Assert.Equal(0, ledger.Unsettled);
        Assert.Equal(1, ledger.Admitted);
    }
    [Fact]
    public void Keys_admitted_together_count_like_keys_admitted_one_at_a_time()
    {
        long[] markers = [4_000, 4_000, 4_500, 9_000];
        var together = new DecisionLedger();
        var one = new DecisionLedger();
        together.AdmitKeys(markers);
        foreach (long key in markers) one.AdmitKey(key);
        together.AdmitKeys([]);
        foreach (var ledger in new[] { together, one })
        {
            Assert.Equal(4, ledger.Unsettled);
            Assert.Equal(4, ledger.Undecided);
            Assert.Equal(4, ledger.Admitted);
            Assert.True(ledger.AllDecidedBefore(4_000));
            Assert.False(ledger.AllDecidedBefore(4_001));
            ledger.Decided(4_000);
            ledger.Decided(4_000);
            ledger.Settled(4_000);
            Assert.False(ledger.AllDecidedBefore(5_000)); // 4,500 is not decided
            Assert.False(ledger.AllSettledThrough(4_999)); // one marker of that second is not settled
            ledger.Decided(4_500);
            ledger.Settled(4_000);
            ledger.Settled(4_500);
            Assert.True(ledger.AllSettledThrough(8_999));
            Assert.Equal(1, ledger.Unsettled);
        }
    }
}
