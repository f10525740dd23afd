using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Confluent.Kafka;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Kafka.Mock;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// One librdkafka mock cluster (3 brokers) and one ActorSystem for every Kafka test; each test makes its
/// own topics and groups, so tests never see each other's records or offsets.
/// </summary>
public sealed class KafkaMockFixture : IDisposable
{
    private int _sequence;

    public KafkaMockFixture()
    {
        Cluster = KafkaMockCluster.Start(brokers: 3);
        Cluster.SetGroupInitialRebalanceDelay(TimeSpan.FromMilliseconds(50));
        System = ActorSystem.Create("kafka-tests", ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.log-dead-letters = off
            akka.log-dead-letters-during-shutdown = off
            """));
        Materializer = System.Materializer();
        KcatPath = FindOnPath("kcat");
    }

    public KafkaMockCluster Cluster { get; }
    public ActorSystem System { get; }
    public IMaterializer Materializer { get; }
    public string Bootstrap => Cluster.BootstrapServers;

    /// <summary>Debian's kcat (apt-get install -y kcat), or null when it is not installed.</summary>
    public string? KcatPath { get; }

    public const string KcatMissing = "kcat is not installed (apt-get install -y kcat); the kcat interoperability tests need it";

    /// <summary>A fresh topic (replicated on all 3 brokers) with a unique name.</summary>
    public string NewTopic(string name, int partitions)
    {
        string topic = $"{name}-{Interlocked.Increment(ref _sequence)}";
        Cluster.CreateTopic(topic, partitions, replicationFactor: 3);
        return topic;
    }

    public string NewGroup(string name) => $"{name}-{Interlocked.Increment(ref _sequence)}";

    /// <summary>Consumer settings tuned for fast tests: short session timeout, quick commits.</summary>
    public KafkaConsumerSettings ConsumerSettings(string group, string topic) =>
        KafkaConsumerSettings.Create(Bootstrap, group, topic)
            .WithProperty("session.timeout.ms", "3000")
            .WithProperty("heartbeat.interval.ms", "300")
            .WithProperty("partition.assignment.strategy", "cooperative-sticky")
            .WithRevokeDrainTimeout(TimeSpan.FromSeconds(2))
            .WithCommit(KafkaCommitterSettings.Default.WithMaxBatch(100).WithMaxInterval(TimeSpan.FromMilliseconds(100)));

    public KafkaProducerSettings ProducerSettings() => KafkaProducerSettings.Create(Bootstrap).WithProperty("linger.ms", "1");

    public static UserEvent Event(int i) => new($"u-{i % 37}", 1_795_000_000_000 + i * 1000L, i % 5 == 0 ? "cart" : "view")
    {
        Item = $"sku-{i}",
        Amount = i % 5 == 0 ? 10 + i % 100 : null,
    };

    /// <summary>Writes events with a plain Confluent.Kafka producer: key = userId, header sd-schema = 1.</summary>
    public void ProduceEvents(string topic, int from, int count)
    {
        int errors = 0;
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = Bootstrap,
            EnableIdempotence = true,
            LingerMs = 5,
        }).Build();
        for (int i = from; i < from + count; i++)
        {
            var record = ProducerRecord.ForEvent(Event(i));
            var headers = new Headers { { "sd-schema", "1"u8.ToArray() } };
            while (true)
            {
                try
                {
                    producer.Produce(topic, new Message<string, byte[]> { Key = record.Key!, Value = record.Value, Headers = headers }, report =>
                    {
                        if (report.Error.IsError) Interlocked.Increment(ref errors);
                    });
                    break;
                }
                catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, errors);
    }

    /// <summary>Writes raw values (null key) with a plain producer.</summary>
    public void ProduceRaw(string topic, IEnumerable<(byte[] Value, string? Schema)> records)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = Bootstrap }).Build();
        foreach (var (value, schema) in records)
        {
            var message = new Message<Null, byte[]> { Value = value };
            if (schema is not null) message.Headers = new Headers { { "sd-schema", global::System.Text.Encoding.UTF8.GetBytes(schema) } };
            producer.Produce(topic, message);
        }
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    /// <summary>High watermark (end offset) of each partition.</summary>
    public Dictionary<int, long> EndOffsets(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = "watermarks" }).Build();
        return Enumerable.Range(0, partitions).ToDictionary(p => p,
            p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    /// <summary>The group's committed offset of each partition (-1001 = none).</summary>
    public Dictionary<int, long> Committed(string group, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = group }).Build();
        return consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10))
            .ToDictionary(t => t.Partition.Value, t => t.Offset.Value);
    }

    /// <summary>Reads a whole topic from the beginning (no group offsets involved).</summary>
    public List<ConsumeResult<string?, byte[]>> ReadAll(string topic, int partitions, int expected, TimeSpan? timeout = null)
    {
        using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = NewGroup("reader"),
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var result = new List<ConsumeResult<string?, byte[]>>();
        var deadline = Stopwatch.StartNew();
        while (result.Count < expected && deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(15)))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is not null && !r.IsPartitionEOF) result.Add(r);
        }
        // Anything beyond the expected count would be a duplicate: give it a moment to show up.
        var extra = consumer.Consume(TimeSpan.FromMilliseconds(300));
        if (extra is not null && !extra.IsPartitionEOF) result.Add(extra);
        consumer.Close();
        return result;
    }

    /// <summary>Runs kcat with arguments; returns stdout. Fails the test on a non-zero exit.</summary>
    public string Kcat(string arguments, string? stdin = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(KcatPath ?? throw new InvalidOperationException(KcatMissing), arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            throw new TimeoutException($"kcat {arguments} did not finish; stderr: {stderr.Result}");
        }
        Assert.True(process.ExitCode == 0, $"kcat {arguments} exited {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    public void Dispose()
    {
        System.Terminate().Wait(TimeSpan.FromSeconds(10));
        Cluster.Dispose();
    }

    private static string? FindOnPath(string program)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(dir, program);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}

[CollectionDefinition(Name)]
public sealed class KafkaCollection : ICollectionFixture<KafkaMockFixture>
{
    public const string Name = "Kafka";
}
