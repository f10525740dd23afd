using StreamDetect.Engine.Cli;

namespace StreamDetect.Engine.Tests.Cli;

public sealed class IntervalRateTests
{
    [Fact]
    public void The_rate_is_over_the_last_interval_not_since_the_start()
    {
        var rate = new IntervalRate();
        // 40 s of training, then 780,000 events in the next 10 s and 390,000 in the 10 s after.
        rate.Mark(0, TimeSpan.FromSeconds(40));
        Assert.Equal("78,000/s over the last 10 s", rate.Describe(780_000, TimeSpan.FromSeconds(50)));
        Assert.Equal("39,000/s over the last 10 s", rate.Describe(1_170_000, TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void Without_a_mark_the_first_line_measures_from_the_start_and_a_stalled_count_reads_zero()
    {
        var rate = new IntervalRate();
        Assert.Equal("1,000/s over the last 2 s", rate.Describe(2_000, TimeSpan.FromSeconds(2)));
        Assert.Equal("0/s over the last 2 s", rate.Describe(2_000, TimeSpan.FromSeconds(4)));
    }
}
