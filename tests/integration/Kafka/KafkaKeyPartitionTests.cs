using Confluent.Kafka;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// The producers' side of <c>streamdetect.routing.colocate</c>: a record keyed by the userId lands in the Kafka partition
/// <see cref="KafkaKeyHash.PartitionOf"/> names when the producer uses Kafka's default (Java) partitioner, which
/// librdkafka clients (Confluent.Kafka, kcat) get with <c>partitioner=murmur2_random</c>.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class KafkaKeyPartitionTests(KafkaMockFixture kafka)
{
    private const int Partitions = 8;

    private static readonly string[] Users = Enumerable.Range(0, 200).Select(i => $"user-{i:D6}").ToArray();

    [Fact]
    public async Task A_murmur2_producer_must_put_each_user_in_the_partition_the_engine_expects()
    {
        string topic = kafka.NewTopic("key-hash", Partitions);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = kafka.Bootstrap,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();
        foreach (string user in Users)
        {
            var delivered = await producer.ProduceAsync(topic, new Message<string, string> { Key = user, Value = "{}" }, TestContext.Current.CancellationToken);
            Assert.Equal(KafkaKeyHash.PartitionOf(user, Partitions), delivered.Partition.Value);
        }
    }

    [Fact]
    public void Kcat_with_the_murmur2_partitioner_must_put_each_user_in_the_partition_the_engine_expects()
    {
        Assert.SkipUnless(kafka.KcatPath is not null, KafkaMockFixture.KcatMissing);
        string topic = kafka.NewTopic("key-hash-kcat", Partitions);
        kafka.Kcat($"-b {kafka.Bootstrap} -t {topic} -P -X partitioner=murmur2_random -K:", stdin: string.Concat(Users.Select(u => $"{u}:{{}}\n")));
        var read = kafka.Kcat($"-b {kafka.Bootstrap} -t {topic} -C -o beginning -e -q -f \"%k %p\\n\"")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(f => f[0], f => int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Users.Order(), read.Keys.Order());
        Assert.All(Users, user => Assert.Equal(KafkaKeyHash.PartitionOf(user, Partitions), read[user]));
    }
}
