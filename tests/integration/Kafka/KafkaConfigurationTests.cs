using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>The shipped HOCON (embedded defaults and the kafka.conf overlay) builds valid Kafka settings.</summary>
public sealed class KafkaConfigurationTests
{
    private static string Overlay => Path.Combine(AppContext.BaseDirectory, "hocon", "kafka.conf");

    [Fact]
    public void Defaults_must_build_every_Kafka_settings_object()
    {
        var config = EngineConfig.Reference;
        var consumer = KafkaConsumerSettings.Create(config);
        Assert.Equal("localhost:9092", consumer.BootstrapServers);
        Assert.Equal(["streamdetect-events"], consumer.Topics);
        Assert.Equal("streamdetect", consumer.GroupId);
        Assert.Equal("earliest", consumer.Properties["auto.offset.reset"]);
        Assert.Equal(1000, consumer.Commit.MaxBatch);
        Assert.Equal(["1"], consumer.SchemaVersions);

        var feedback = KafkaConsumerSettings.Create(config, KafkaConsumerSettings.FeedbackPath);
        Assert.Equal(["streamdetect-feedback"], feedback.Topics);
        Assert.Equal("streamdetect-feedback", feedback.GroupId);

        var producer = KafkaProducerSettings.Create(config);
        Assert.Equal("streamdetect-alerts", producer.AlertsTopic);
        Assert.Equal("streamdetect-dead-letters", producer.DeadLettersTopic);
    }

    [Fact]
    public void KafkaOverlay_must_turn_the_Kafka_source_and_sinks_on()
    {
        var config = EngineConfig.Load([Overlay]);
        Assert.Equal("kafka", config.GetString("streamdetect.source"));
        Assert.Equal("kafka", config.GetString("streamdetect.alerts.sink"));
        Assert.Equal("kafka", config.GetString("streamdetect.dead-letters.sink"));
        Assert.True(config.GetBoolean("streamdetect.kafka.feedback.enabled"));
        Assert.Equal("4KiB", config.GetString("streamdetect.dead-letters.max-raw-bytes")); // defaults still there
        Assert.Equal("localhost:9092", KafkaConsumerSettings.Create(config).BootstrapServers);
    }

    [Fact]
    public void A_later_overlay_must_point_every_client_at_other_brokers_with_one_key()
    {
        var config = EngineConfig.Load([Overlay], "streamdetect.kafka.bootstrap-servers = \"127.0.0.1:1,127.0.0.1:2\"");
        Assert.Equal("127.0.0.1:1,127.0.0.1:2", KafkaConsumerSettings.Create(config).BootstrapServers);
        Assert.Equal("127.0.0.1:1,127.0.0.1:2", KafkaConsumerSettings.Create(config, KafkaConsumerSettings.FeedbackPath).BootstrapServers);
        Assert.Equal("127.0.0.1:1,127.0.0.1:2", KafkaProducerSettings.Create(config).BootstrapServers);
    }
}
