using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class RepeatedLogFilterTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Filter_must_let_one_line_per_distinct_message_through_per_interval_and_count_the_rest()
    {
        var filter = new RepeatedLogFilter(S(30));
        Assert.True(filter.ShouldLog("127.0.0.1:40123/1: Connect to ipv4#127.0.0.1:40123 failed: Connection refused (after 0ms in state CONNECT)", S(0), out long held));
        Assert.Equal(0, held);
        // The same failure on other brokers and later attempts differs only in numbers.
        for (int i = 0; i < 1000; i++)
            Assert.False(filter.ShouldLog($"127.0.0.1:4012{i % 3}/{i % 3}: Connect to ipv4#127.0.0.1:4012{i % 3} failed: Connection refused (after {i}ms in state CONNECT)", S(i * 0.02), out _));
        Assert.True(filter.ShouldLog("3/3 brokers are down", S(1), out _)); // another message is not held back
        Assert.True(filter.ShouldLog("127.0.0.1:40125/2: Connect to ipv4#127.0.0.1:40125 failed: Connection refused (after 1ms in state CONNECT)", S(30), out held));
        Assert.Equal(1000, held);
        Assert.Equal(" (1,000 more like it since it was last logged)", RepeatedLogFilter.Note(held));
    }

    [Fact]
    public void Filter_must_treat_a_log_line_and_the_same_error_without_its_thread_prefix_as_one()
    {
        var filter = new RepeatedLogFilter(S(30));
        Assert.True(filter.ShouldLog("[thrd:127.0.0.1:40123/1]: 127.0.0.1:40123/1: Disconnected", S(0), out _));
        Assert.False(filter.ShouldLog("127.0.0.1:40123/1: Disconnected", S(0.1), out _));
    }

    [Fact]
    public void Filter_with_a_zero_interval_must_let_every_line_through()
    {
        var filter = new RepeatedLogFilter(TimeSpan.Zero);
        for (int i = 0; i < 10; i++) Assert.True(filter.ShouldLog("same", S(0), out _));
    }

    [Fact]
    public void Filter_must_stay_bounded_with_endless_distinct_messages()
    {
        var filter = new RepeatedLogFilter(S(30));
        for (int i = 0; i < RepeatedLogFilter.MaxDistinct + 50; i++)
            Assert.True(filter.ShouldLog($"message {new string((char)('a' + i % 26), 1 + i / 26)}", S(0), out _));
    }
}
