using System.Text.Json;
using Confluent.Kafka;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Reads back the alerts already on an alert topic (the last records of each partition), so that
/// alerts scored again after a crash are not published twice: an alert keeps its id when it is
/// re-emitted (<see cref="AlertIds"/>), and its time restarts the user's cooldown.
/// </summary>
public static class AlertTopicReader
{
    /// <summary>The alerts among the last <paramref name="perPartition"/> records of every partition of the topic.</summary>
    /// <exception cref="KafkaException">The cluster could not be asked (unreachable, topic metadata failed).</exception>
    public static List<EmittedAlert> RecentAlerts(KafkaProducerSettings producer, string topic, int perPartition, TimeSpan timeout)
    {
        var ids = new List<EmittedAlert>();
        if (perPartition <= 0) return ids;
        var common = new Dictionary<string, string>(StringComparer.Ordinal) { ["bootstrap.servers"] = producer.BootstrapServers };
        // Security settings of the producer (SASL/SSL) apply to this reader too.
        foreach (var (key, value) in producer.Properties)
        {
            if (key.StartsWith("security.", StringComparison.Ordinal) || key.StartsWith("sasl.", StringComparison.Ordinal) || key.StartsWith("ssl.", StringComparison.Ordinal))
                common[key] = value;
        }
        producer.Faults.ApplyBackoff(common); // streamdetect.kafka.retry-backoff(-max)
        // Each client gets its own copy: a Confluent config wraps the dictionary it is given.
        var config = new ConsumerConfig(new Dictionary<string, string>(common))
        {
            GroupId = "streamdetect-alert-reader", // never joined nor committed: partitions are assigned
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        };

        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(common))).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.Code == ErrorCode.UnknownTopicOrPart || metadata.Partitions.Count == 0) return ids;
        if (metadata.Error.IsError) throw new KafkaException(metadata.Error);

        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
        var start = new List<TopicPartitionOffset>();
        var remaining = new HashSet<int>();
        foreach (var partition in metadata.Partitions)
        {
            var tp = new TopicPartition(topic, partition.PartitionId);
            var marks = consumer.QueryWatermarkOffsets(tp, timeout);
            if (marks.High.Value <= marks.Low.Value) continue;
            start.Add(new TopicPartitionOffset(tp, Math.Max(marks.Low.Value, marks.High.Value - perPartition)));
            remaining.Add(partition.PartitionId);
        }
        if (start.Count == 0) return ids;
        consumer.Assign(start);
        var deadline = DateTime.UtcNow + timeout;
        while (remaining.Count > 0)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new KafkaException(new Error(ErrorCode.Local_TimedOut, $"reading back the alert topic '{topic}' took longer than {timeout}"));
            var result = consumer.Consume(left);
            if (result is null) continue;
            if (result.IsPartitionEOF)
            {
                remaining.Remove(result.Partition.Value);
                continue;
            }
            if (EmittedAlert.Parse(result.Message.Value) is { } alert) ids.Add(alert);
        }
        consumer.Close();
        return ids;
    }
}
