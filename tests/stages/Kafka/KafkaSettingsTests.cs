using Akka.Configuration;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class KafkaSettingsTests
{
    private const string Consumer = """
        streamdetect.kafka {
          bootstrap-servers = "b1:9092,b2:9092"
          properties { "security.protocol" = SASL_SSL, sasl.mechanism = PLAIN }
          consumer {
            bootstrap-servers = ""
            topics = ["events"]
            group-id = "g"
            poll-timeout = 20ms
            buffer-size = 10
            revoke-drain-timeout = 2s
            commit { max-batch = 5, max-interval = 200ms }
            schema-header = "sd-schema"
            schema-versions = ["1", "2"]
            require-schema-header = on
            properties { "session.timeout.ms" = 3000, "sasl.mechanism" = SCRAM-SHA-256 }
          }
          producer {
            bootstrap-servers = "p:9092"
            alerts-topic = alerts
            dead-letters-topic = dlq
            max-in-flight = 100
            flush-timeout = 3s
            properties { "linger.ms" = 1 }
          }
        }
        """;

    private static Config Parse(string hocon) => ConfigurationFactory.ParseString(hocon);

    [Fact]
    public void ConsumerSettings_must_read_every_key_and_merge_shared_and_own_properties()
    {
        var s = KafkaConsumerSettings.Create(Parse(Consumer));
        Assert.Equal("b1:9092,b2:9092", s.BootstrapServers);
        Assert.Equal(["events"], s.Topics);
        Assert.Equal("g", s.GroupId);
        Assert.Equal(TimeSpan.FromMilliseconds(20), s.PollTimeout);
        Assert.Equal(10, s.BufferSize);
        Assert.Equal(TimeSpan.FromSeconds(2), s.RevokeDrainTimeout);
        Assert.Equal(5, s.Commit.MaxBatch);
        Assert.Equal(TimeSpan.FromMilliseconds(200), s.Commit.MaxInterval);
        Assert.Equal(["1", "2"], s.SchemaVersions);
        Assert.True(s.RequireSchemaHeader);
        Assert.Equal("SASL_SSL", s.Properties["security.protocol"]);
        Assert.Equal("SCRAM-SHA-256", s.Properties["sasl.mechanism"]); // the client's own wins
        Assert.Equal("3000", s.Properties["session.timeout.ms"]);

        var config = s.ToConsumerConfig(autoCommit: false);
        Assert.False(config.EnableAutoCommit);
        Assert.Equal("g", config.GroupId);
        Assert.Equal("3000", config.Get("session.timeout.ms"));
    }

    [Fact]
    public void ProducerSettings_must_read_every_key_and_always_be_idempotent_with_acks_all()
    {
        var s = KafkaProducerSettings.Create(Parse(Consumer));
        Assert.Equal("p:9092", s.BootstrapServers);
        Assert.Equal("alerts", s.AlertsTopic);
        Assert.Equal("dlq", s.DeadLettersTopic);
        Assert.Equal(100, s.MaxInFlight);
        Assert.Equal(TimeSpan.FromSeconds(3), s.FlushTimeout);
        var config = s.ToProducerConfig();
        Assert.True(config.EnableIdempotence);
        Assert.Equal(Confluent.Kafka.Acks.All, config.Acks);
        Assert.Equal("1", config.Get("linger.ms"));
        Assert.Equal("SASL_SSL", config.Get("security.protocol"));
    }

    [Theory]
    [InlineData("consumer.group-id = \"\"", "streamdetect.kafka.consumer.group-id")]
    [InlineData("consumer.topics = []", "streamdetect.kafka.consumer.topics")]
    [InlineData("consumer.buffer-size = 0", "streamdetect.kafka.consumer.buffer-size")]
    [InlineData("consumer.commit.max-interval = banana", "streamdetect.kafka.consumer.commit.max-interval")]
    [InlineData("consumer.properties { \"enable.auto.commit\" = true }", "streamdetect.kafka.consumer.properties.\"enable.auto.commit\"")]
    [InlineData("consumer.properties { \"group.id\" = x }", "streamdetect.kafka.consumer.properties.\"group.id\"")]
    [InlineData("consumer.properties { \"bootstrap.servers\" = x }", "streamdetect.kafka.consumer.properties.\"bootstrap.servers\"")]
    public void ConsumerSettings_must_name_the_key_of_a_bad_value(string change, string key)
    {
        var config = Parse("streamdetect.kafka." + change).WithFallback(Parse(Consumer));
        var e = Assert.Throws<SettingsException>(() => KafkaConsumerSettings.Create(config));
        Assert.Equal(key, e.Key);
    }

    [Theory]
    [InlineData("producer.properties { \"enable.idempotence\" = false }", "streamdetect.kafka.producer.properties.\"enable.idempotence\"")]
    [InlineData("producer.properties { acks = 1 }", "streamdetect.kafka.producer.properties.\"acks\"")]
    [InlineData("producer.max-in-flight = 0", "streamdetect.kafka.producer.max-in-flight")]
    [InlineData("producer.alerts-topic = \"\"", "streamdetect.kafka.producer.alerts-topic")]
    public void ProducerSettings_must_name_the_key_of_a_bad_value(string change, string key)
    {
        var config = Parse("streamdetect.kafka." + change).WithFallback(Parse(Consumer));
        var e = Assert.Throws<SettingsException>(() => KafkaProducerSettings.Create(config));
        Assert.Equal(key, e.Key);
    }

    [Fact]
    public void Settings_must_be_immutable_copies()
    {
        var a = KafkaConsumerSettings.Create("h:1", "g", "t");
        var b = a.WithBufferSize(7).WithProperty("session.timeout.ms", "3000").WithCommit(KafkaCommitterSettings.Default.WithMaxBatch(3));
        Assert.Equal(1024, a.BufferSize);
        Assert.False(a.Properties.ContainsKey("session.timeout.ms"));
        Assert.Equal(1000, a.Commit.MaxBatch);
        Assert.Equal(7, b.BufferSize);
        Assert.Equal(3, b.Commit.MaxBatch);
        Assert.Throws<ArgumentException>(() => KafkaProducerSettings.Create("h:1").WithProperty("enable.idempotence", "false"));
    }
}
