using Akka.Configuration;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class KafkaFaultSettingsTests
{
    [Fact]
    public void Fault_settings_must_read_every_key_under_streamdetect_kafka()
    {
        var s = KafkaFaultSettings.Create(ConfigurationFactory.ParseString("""
            streamdetect.kafka { connect-timeout = 3s, unavailable-timeout = 0s, on-retention-loss = FAIL, log-repeat-interval = 5s, final-commit-timeout = 2s }
            """));
        Assert.Equal(TimeSpan.FromSeconds(2), s.FinalCommitTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), s.ConnectTimeout);
        Assert.Equal(TimeSpan.Zero, s.UnavailableTimeout);
        Assert.Equal(RetentionLossPolicy.Fail, s.OnRetentionLoss);
        Assert.Equal(TimeSpan.FromSeconds(5), s.LogRepeatInterval);
    }

    [Fact]
    public void Fault_settings_must_keep_the_defaults_for_absent_keys()
    {
        var s = KafkaFaultSettings.Create(ConfigurationFactory.ParseString("streamdetect.kafka { bootstrap-servers = \"x:1\" }"));
        Assert.Equal(KafkaFaultSettings.Default.ConnectTimeout, s.ConnectTimeout);
        Assert.Equal(RetentionLossPolicy.Report, s.OnRetentionLoss);
    }

    [Fact]
    public void Retry_backoff_must_double_up_to_its_maximum_and_reach_every_client_unless_its_raw_property_is_set()
    {
        var s = KafkaFaultSettings.Create(ConfigurationFactory.ParseString("streamdetect.kafka { retry-backoff = 250ms, retry-backoff-max = 2s }"));
        Assert.Equal([250, 500, 1000, 2000, 2000], new[] { 1, 2, 3, 4, 40 }.Select(n => s.RetryDelay(n).TotalMilliseconds));
        var properties = new Dictionary<string, string> { ["reconnect.backoff.max.ms"] = "30000" };
        s.ApplyBackoff(properties);
        Assert.Equal("250", properties["retry.backoff.ms"]);
        Assert.Equal("2000", properties["retry.backoff.max.ms"]);
        Assert.Equal("250", properties["reconnect.backoff.ms"]);
        Assert.Equal("30000", properties["reconnect.backoff.max.ms"]); // the raw property wins
        Assert.Equal("2000", KafkaConsumerSettings.Create("x:1", "g", "t").WithFaults(s).ToConsumerConfig(autoCommit: false).Get("retry.backoff.max.ms"));
        Assert.Equal("250", KafkaProducerSettings.Create("x:1").WithFaults(s).ToProducerConfig().Get("reconnect.backoff.ms"));
    }

    [Theory]
    [InlineData("retry-backoff = 0s", "streamdetect.kafka.retry-backoff")]
    [InlineData("retry-backoff = 2s, retry-backoff-max = 1s", "streamdetect.kafka.retry-backoff-max")]
    [InlineData("on-retention-loss = ignore", "streamdetect.kafka.on-retention-loss")]
    [InlineData("connect-timeout = 0s", "streamdetect.kafka.connect-timeout")]
    [InlineData("unavailable-timeout = soon", "streamdetect.kafka.unavailable-timeout")]
    public void A_bad_fault_setting_must_name_its_key(string hocon, string key)
    {
        var e = Assert.Throws<SettingsException>(() => KafkaFaultSettings.Create(ConfigurationFactory.ParseString($"streamdetect.kafka {{ {hocon} }}")));
        Assert.Contains(key, e.Message);
    }
}
