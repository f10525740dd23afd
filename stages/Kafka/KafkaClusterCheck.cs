using Confluent.Kafka;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// The check a run makes before it starts anything: the brokers answer within the connect timeout
/// (<c>streamdetect.kafka.connect-timeout</c>) and every topic it will read or write exists. A failure is an
/// <see cref="EnvironmentFailureException"/> of the broker (exit code 4) with one line naming the servers
/// or the topic, instead of a consumer that waits forever for a group that never forms.
/// </summary>
public static class KafkaClusterCheck
{
    /// <summary>The HOCON key of the timeout, for messages.</summary>
    public const string TimeoutKey = KafkaClientProperties.SharedPath + ".connect-timeout";

    /// <summary>
    /// Asks the cluster at <paramref name="bootstrapServers"/> for its metadata (all topics: asking for one
    /// topic by name could make a broker with auto-creation create it) and checks <paramref name="topics"/>.
    /// </summary>
    /// <param name="properties">The client's raw librdkafka properties (security settings matter here; the rest is ignored).</param>
    /// <param name="topics">Topic -> what it is for (e.g. "event topic (streamdetect.kafka.consumer.topics)").</param>
    public static void RequireTopics(string bootstrapServers, IReadOnlyDictionary<string, string> properties,
        IReadOnlyDictionary<string, string> topics, TimeSpan timeout)
    {
        var config = new AdminClientConfig();
        foreach (var (name, value) in properties)
        {
            if (AdminProperty(name)) config.Set(name, value);
        }
        config.BootstrapServers = bootstrapServers;
        Metadata metadata;
        try
        {
            // librdkafka reports every failed connection attempt; the one line below says it all.
            using var admin = new AdminClientBuilder(config)
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, _) => { })
                .Build();
            metadata = admin.GetMetadata(timeout);
        }
        catch (KafkaException e)
        {
            throw new EnvironmentFailureException(FailedResource.Broker,
                $"kafka: no broker at {bootstrapServers} answered within {Seconds(timeout)} ({e.Error.Reason}; {TimeoutKey})", e);
        }
        foreach (var (topic, purpose) in topics)
        {
            var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
            if (found is null || found.Error.Code == ErrorCode.UnknownTopicOrPart)
                throw new EnvironmentFailureException(FailedResource.Broker,
                    $"kafka: topic '{topic}' ({purpose}) does not exist at {bootstrapServers}; create it or name an existing one");
            if (found.Error.IsError)
                throw new EnvironmentFailureException(FailedResource.Broker,
                    $"kafka: topic '{topic}' ({purpose}) at {bootstrapServers}: {found.Error.Reason}");
        }
    }

    /// <summary>Consumer- or producer-only properties are left out (librdkafka would warn about each on an admin client).</summary>
    private static bool AdminProperty(string name) =>
        name.StartsWith("security.", StringComparison.Ordinal) || name.StartsWith("sasl.", StringComparison.Ordinal)
        || name.StartsWith("ssl.", StringComparison.Ordinal) || name.StartsWith("ssl_", StringComparison.Ordinal)
        || name is "client.id" or "client.dns.lookup" or "broker.address.family" or "socket.timeout.ms"
            or "enable.ssl.certificate.verification" or "enable.sasl.oauthbearer.unsecure.jwt" or "client.rack";

    private static string Seconds(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1 ? $"{timeout.TotalSeconds:0.#} s" : $"{timeout.TotalMilliseconds:0} ms";
}
