using Akka.Configuration;
using Confluent.Kafka;
using Config = Akka.Configuration.Config;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Settings of a Kafka consumer source (HOCON block <c>streamdetect.kafka.consumer</c>, or
/// <c>streamdetect.kafka.feedback</c> for the feedback labels). Immutable; <c>WithX</c> returns a copy.
/// </summary>
public sealed class KafkaConsumerSettings
{
    /// <summary>The block the event source reads.</summary>
    public const string EventsPath = "streamdetect.kafka.consumer";

    /// <summary>The block the feedback-label source reads.</summary>
    public const string FeedbackPath = "streamdetect.kafka.feedback";

    private KafkaConsumerSettings(string bootstrapServers, string groupId, IReadOnlyList<string> topics)
    {
        BootstrapServers = bootstrapServers;
        GroupId = groupId;
        Topics = topics;
    }

    /// <summary>Comma-separated host:port list of the brokers.</summary>
    public string BootstrapServers { get; private set; }

    /// <summary>The consumer group; its members split the topics' partitions and share committed offsets.</summary>
    public string GroupId { get; private set; }

    /// <summary>Topics subscribed to.</summary>
    public IReadOnlyList<string> Topics { get; private set; }

    /// <summary>Longest a poll blocks when no record is waiting (bounds the latency of stop and commit requests).</summary>
    public TimeSpan PollTimeout { get; private set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Records polled but not yet emitted downstream; polling pauses when this many are buffered.</summary>
    public int BufferSize { get; private set; } = 1024;

    /// <summary>
    /// On a partition revocation, how long the consumer waits for records of that partition that are
    /// already downstream to be reported done, so their offsets are committed before the partition moves.
    /// </summary>
    public TimeSpan RevokeDrainTimeout { get; private set; } = TimeSpan.FromSeconds(5);

    /// <summary>How the committer batches commits.</summary>
    public KafkaCommitterSettings Commit { get; private set; } = KafkaCommitterSettings.Default;

    /// <summary>Record header carrying the event schema version (e.g. "sd-schema" = "1").</summary>
    public string SchemaHeader { get; private set; } = "sd-schema";

    /// <summary>Schema versions accepted; a record with another version goes to the dead letters.</summary>
    public IReadOnlyList<string> SchemaVersions { get; private set; } = ["1"];

    /// <summary>Whether a record without the schema header is rejected (otherwise it is read as the current version).</summary>
    public bool RequireSchemaHeader { get; private set; }

    /// <summary>Raw librdkafka properties (shared <c>streamdetect.kafka.properties</c> overlaid by the block's own).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; private set; } = new Dictionary<string, string>();

    /// <summary>Broker outages, retention loss and repeated client errors (keys under <c>streamdetect.kafka</c>).</summary>
    public KafkaFaultSettings Faults { get; private set; } = KafkaFaultSettings.Default;

    /// <summary>
    /// Whether a group without a committed offset starts at the earliest record (<c>auto.offset.reset</c>
    /// earliest/smallest/beginning); librdkafka's default is the latest.
    /// </summary>
    public bool StartsAtEarliest =>
        Properties.TryGetValue("auto.offset.reset", out string? reset) && reset.Trim().ToLowerInvariant() is "earliest" or "smallest" or "beginning";

    /// <summary>Settings with code defaults (tests and tools; the engine reads HOCON).</summary>
    public static KafkaConsumerSettings Create(string bootstrapServers, string groupId, params string[] topics)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrapServers);
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        if (topics.Length == 0 || topics.Any(string.IsNullOrEmpty)) throw new ArgumentException("at least one non-empty topic", nameof(topics));
        return new KafkaConsumerSettings(bootstrapServers, groupId, topics.ToArray())
        {
            Properties = new Dictionary<string, string> { ["auto.offset.reset"] = "earliest" },
        };
    }

    /// <summary>Reads a consumer block (default <see cref="EventsPath"/>); errors name the key.</summary>
    public static KafkaConsumerSettings Create(Config config, string path = EventsPath)
    {
        var r = new SettingsReader(config, path);
        var topics = r.StringList("topics");
        if (topics.Count == 0 || topics.Any(string.IsNullOrWhiteSpace))
            throw new SettingsException(r.Key("topics"), "must list at least one non-empty topic");
        var versions = r.StringList("schema-versions");
        if (versions.Count == 0)
            throw new SettingsException(r.Key("schema-versions"), "must list at least one version");
        var properties = KafkaClientProperties.Merge(config, r);
        string propertiesKey = r.Key("properties");
        KafkaClientProperties.Forbid(properties, propertiesKey, "bootstrap.servers", $"set {r.Key("bootstrap-servers")} or {KafkaClientProperties.SharedPath}.bootstrap-servers");
        KafkaClientProperties.Forbid(properties, propertiesKey, "group.id", $"set {r.Key("group-id")}");
        KafkaClientProperties.Forbid(properties, propertiesKey, "enable.auto.commit", "offsets are committed after processing by the committer (or automatically by the plain source)");
        KafkaClientProperties.Forbid(properties, propertiesKey, "enable.auto.offset.store", "offsets are tracked by StreamDetect");

        return new KafkaConsumerSettings(KafkaClientProperties.BootstrapServers(config, r), r.String("group-id"), topics)
        {
            PollTimeout = r.Duration("poll-timeout"),
            BufferSize = r.Int("buffer-size", min: 1, max: 1_000_000),
            RevokeDrainTimeout = r.Duration("revoke-drain-timeout", allowZero: true),
            Commit = KafkaCommitterSettings.Create(r.Nested("commit")),
            SchemaHeader = r.String("schema-header"),
            SchemaVersions = versions,
            RequireSchemaHeader = r.Bool("require-schema-header"),
            Properties = properties,
            Faults = KafkaFaultSettings.Create(config),
        };
    }

    public KafkaConsumerSettings WithBootstrapServers(string bootstrapServers)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrapServers);
        return Copy(s => s.BootstrapServers = bootstrapServers);
    }

    public KafkaConsumerSettings WithGroupId(string groupId)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        return Copy(s => s.GroupId = groupId);
    }

    public KafkaConsumerSettings WithTopics(params string[] topics)
    {
        if (topics.Length == 0 || topics.Any(string.IsNullOrEmpty)) throw new ArgumentException("at least one non-empty topic", nameof(topics));
        return Copy(s => s.Topics = topics.ToArray());
    }

    public KafkaConsumerSettings WithPollTimeout(TimeSpan pollTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollTimeout, TimeSpan.Zero);
        return Copy(s => s.PollTimeout = pollTimeout);
    }

    public KafkaConsumerSettings WithBufferSize(int bufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        return Copy(s => s.BufferSize = bufferSize);
    }

    public KafkaConsumerSettings WithRevokeDrainTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return Copy(s => s.RevokeDrainTimeout = timeout);
    }

    public KafkaConsumerSettings WithCommit(KafkaCommitterSettings commit)
    {
        ArgumentNullException.ThrowIfNull(commit);
        return Copy(s => s.Commit = commit);
    }

    public KafkaConsumerSettings WithSchema(string header, bool requireHeader, params string[] versions)
    {
        ArgumentException.ThrowIfNullOrEmpty(header);
        if (versions.Length == 0) throw new ArgumentException("at least one version", nameof(versions));
        return Copy(s =>
        {
            s.SchemaHeader = header;
            s.RequireSchemaHeader = requireHeader;
            s.SchemaVersions = versions.ToArray();
        });
    }

    public KafkaConsumerSettings WithFaults(KafkaFaultSettings faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        return Copy(s => s.Faults = faults);
    }

    /// <summary>Sets one raw librdkafka property (e.g. "session.timeout.ms").</summary>
    public KafkaConsumerSettings WithProperty(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Copy(s => s.Properties = new Dictionary<string, string>(Properties, StringComparer.Ordinal) { [name] = value });
    }

    /// <summary>The Confluent.Kafka configuration: the raw properties, then the ones StreamDetect manages.</summary>
    internal ConsumerConfig ToConsumerConfig(bool autoCommit)
    {
        var properties = new Dictionary<string, string>(Properties, StringComparer.Ordinal);
        Faults.ApplyBackoff(properties); // streamdetect.kafka.retry-backoff(-max), unless the raw properties set them
        var config = new ConsumerConfig(properties);
        config.BootstrapServers = BootstrapServers;
        config.GroupId = GroupId;
        config.EnableAutoCommit = autoCommit;
        config.EnableAutoOffsetStore = autoCommit;
        config.EnablePartitionEof = false;
        return config;
    }

    public override string ToString() =>
        $"consumer {GroupId} of {string.Join(",", Topics)} at {BootstrapServers} ({Commit})";

    private KafkaConsumerSettings Copy(Action<KafkaConsumerSettings> change)
    {
        var copy = (KafkaConsumerSettings)MemberwiseClone();
        change(copy);
        return copy;
    }
}
