using Akka.Configuration;
using Confluent.Kafka;
using Config = Akka.Configuration.Config;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Settings of the Kafka producer sinks for alerts and dead letters (HOCON block
/// <c>streamdetect.kafka.producer</c>). The producer is always idempotent with acks=all: a retried
/// produce never duplicates or reorders a record. Immutable; <c>WithX</c> returns a copy.
/// </summary>
public sealed class KafkaProducerSettings
{
    /// <summary>The block read by <see cref="Create(Config)"/>.</summary>
    public const string Path = "streamdetect.kafka.producer";

    private KafkaProducerSettings(string bootstrapServers)
    {
        BootstrapServers = bootstrapServers;
    }

    /// <summary>Comma-separated host:port list of the brokers.</summary>
    public string BootstrapServers { get; private set; }

    /// <summary>Topic the alert sink writes to.</summary>
    public string AlertsTopic { get; private set; } = "streamdetect-alerts";

    /// <summary>Topic the dead-letter sink writes to.</summary>
    public string DeadLettersTopic { get; private set; } = "streamdetect-dead-letters";

    /// <summary>Records handed to the producer but not yet acknowledged; upstream is backpressured beyond it.</summary>
    public int MaxInFlight { get; private set; } = 10_000;

    /// <summary>How long a stopping sink waits for outstanding deliveries before closing the producer.</summary>
    public TimeSpan FlushTimeout { get; private set; } = TimeSpan.FromSeconds(10);

    /// <summary>Raw librdkafka properties (shared <c>streamdetect.kafka.properties</c> overlaid by the block's own).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; private set; } = new Dictionary<string, string>();

    /// <summary>How often a repeated client error is logged, among others (keys under <c>streamdetect.kafka</c>).</summary>
    public KafkaFaultSettings Faults { get; private set; } = KafkaFaultSettings.Default;

    /// <summary>Settings with code defaults (tests and tools; the engine reads HOCON).</summary>
    public static KafkaProducerSettings Create(string bootstrapServers)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrapServers);
        return new KafkaProducerSettings(bootstrapServers)
        {
            Properties = new Dictionary<string, string> { ["linger.ms"] = "5" },
        };
    }

    /// <summary>Reads <see cref="Path"/>; errors name the key.</summary>
    public static KafkaProducerSettings Create(Config config)
    {
        var r = new SettingsReader(config, Path);
        var properties = KafkaClientProperties.Merge(config, r);
        string propertiesKey = r.Key("properties");
        KafkaClientProperties.Forbid(properties, propertiesKey, "bootstrap.servers", $"set {r.Key("bootstrap-servers")} or {KafkaClientProperties.SharedPath}.bootstrap-servers");
        KafkaClientProperties.Forbid(properties, propertiesKey, "enable.idempotence", "the producer is always idempotent");
        KafkaClientProperties.Forbid(properties, propertiesKey, "acks", "the producer always uses acks=all");
        KafkaClientProperties.Forbid(properties, propertiesKey, "request.required.acks", "the producer always uses acks=all");
        return new KafkaProducerSettings(KafkaClientProperties.BootstrapServers(config, r))
        {
            AlertsTopic = r.String("alerts-topic"),
            DeadLettersTopic = r.String("dead-letters-topic"),
            MaxInFlight = r.Int("max-in-flight", min: 1, max: 100_000),
            FlushTimeout = r.Duration("flush-timeout"),
            Properties = properties,
            Faults = KafkaFaultSettings.Create(config),
        };
    }

    public KafkaProducerSettings WithBootstrapServers(string bootstrapServers)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrapServers);
        return Copy(s => s.BootstrapServers = bootstrapServers);
    }

    public KafkaProducerSettings WithAlertsTopic(string topic)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        return Copy(s => s.AlertsTopic = topic);
    }

    public KafkaProducerSettings WithDeadLettersTopic(string topic)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        return Copy(s => s.DeadLettersTopic = topic);
    }

    public KafkaProducerSettings WithMaxInFlight(int maxInFlight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxInFlight, 100_000);
        return Copy(s => s.MaxInFlight = maxInFlight);
    }

    public KafkaProducerSettings WithFlushTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return Copy(s => s.FlushTimeout = timeout);
    }

    public KafkaProducerSettings WithFaults(KafkaFaultSettings faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        return Copy(s => s.Faults = faults);
    }

    /// <summary>Sets one raw librdkafka property (e.g. "linger.ms").</summary>
    public KafkaProducerSettings WithProperty(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name is "enable.idempotence" or "acks" or "request.required.acks")
            throw new ArgumentException($"{name} is managed: the producer is always idempotent with acks=all", nameof(name));
        return Copy(s => s.Properties = new Dictionary<string, string>(Properties, StringComparer.Ordinal) { [name] = value });
    }

    /// <summary>The Confluent.Kafka configuration: the raw properties, then the ones StreamDetect manages.</summary>
    internal ProducerConfig ToProducerConfig()
    {
        var properties = new Dictionary<string, string>(Properties, StringComparer.Ordinal);
        Faults.ApplyBackoff(properties); // streamdetect.kafka.retry-backoff(-max), unless the raw properties set them
        var config = new ProducerConfig(properties);
        config.BootstrapServers = BootstrapServers;
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        // Delivery reports carry only what the sink needs (error, offset); no copy of key/value back.
        config.DeliveryReportFields = "status";
        return config;
    }

    public override string ToString() => $"producer at {BootstrapServers} (alerts {AlertsTopic}, dead letters {DeadLettersTopic})";

    private KafkaProducerSettings Copy(Action<KafkaProducerSettings> change)
    {
        var copy = (KafkaProducerSettings)MemberwiseClone();
        change(copy);
        return copy;
    }
}
