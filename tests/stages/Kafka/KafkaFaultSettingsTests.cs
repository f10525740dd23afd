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
            streamdetect.kafka { connect-timeout = 3s, unavailable-timeout = 0s, on-retention-loss = FAIL, log-repeat-interval = 5s }
            """));
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

    [Theory]
    [InlineData("on-retention-loss = ignore", "streamdetect.kafka.on-retention-loss")]
    [InlineData("connect-timeout = 0s", "streamdetect.kafka.connect-timeout")]
    [InlineData("unavailable-timeout = soon", "streamdetect.kafka.unavailable-timeout")]
    public void A_bad_fault_setting_must_name_its_key(string hocon, string key)
    {
        var e = Assert.Throws<SettingsException>(() => KafkaFaultSettings.Create(ConfigurationFactory.ParseString($"streamdetect.kafka {{ {hocon} }}")));
        Assert.Contains(key, e.Message);
    }
}
