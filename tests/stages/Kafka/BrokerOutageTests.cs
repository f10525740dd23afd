using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class BrokerOutageTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Outage_must_be_exceeded_only_after_the_limit_from_the_first_report()
    {
        var outage = new BrokerOutage(S(10));
        Assert.False(outage.Exceeded(S(100)));
        outage.AllBrokersDown(S(1));
        outage.AllBrokersDown(S(8)); // repeated reports do not move the start
        Assert.True(outage.Down);
        Assert.False(outage.Exceeded(S(10.9)));
        Assert.True(outage.Exceeded(S(11)));
    }

    [Fact]
    public void Outage_must_end_when_a_broker_answers_and_start_afresh_on_the_next_report()
    {
        var outage = new BrokerOutage(S(10));
        outage.AllBrokersDown(S(1));
        Assert.Equal(S(7), outage.BrokerAnswered(S(8)));
        Assert.False(outage.Down);
        Assert.Null(outage.BrokerAnswered(S(9)));
        outage.AllBrokersDown(S(20));
        Assert.False(outage.Exceeded(S(29)));
        Assert.True(outage.Exceeded(S(30)));
    }

    [Fact]
    public void Outage_with_a_zero_limit_must_never_be_exceeded()
    {
        var outage = new BrokerOutage(TimeSpan.Zero);
        outage.AllBrokersDown(S(0));
        Assert.False(outage.Exceeded(S(1_000_000)));
    }
}
