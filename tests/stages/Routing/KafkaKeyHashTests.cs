using System.Text;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Stages.Tests.Routing;

/// <summary>
/// The user hash of <c>streamdetect.routing.colocate</c> is the one Kafka's default partitioner puts on record keys, so
/// that a Kafka partition's users fall in known user partitions.
/// </summary>
public sealed class KafkaKeyHashTests
{
    // Apache Kafka's own vectors (org.apache.kafka.common.utils.UtilsTest.testMurmur2).
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_must_equal_the_Java_clients(string key, int expected)
    {
        Assert.Equal(expected, KafkaKeyHash.Murmur2(Encoding.UTF8.GetBytes(key)));
    }

    [Fact]
    public void A_keys_partition_must_be_the_positive_hash_modulo_the_count()
    {
        // toPositive(-790332482) = 1357151166; 1357151166 % 50 = 16 (Kafka's BuiltInPartitioner.partitionForKey).
        Assert.Equal(1357151166, KafkaKeyHash.Of("foobar"));
        Assert.Equal(16, KafkaKeyHash.PartitionOf("foobar", 50));
    }

    [Theory]
    [InlineData(64, 8)]
    [InlineData(64, 16)]
    [InlineData(96, 12)]
    [InlineData(64, 64)]
    public void With_colocate_a_user_partition_must_hold_only_users_of_one_Kafka_partition(int partitions, int kafkaPartitions)
    {
        var users = Enumerable.Range(0, 5000).Select(i => $"user-{i:D6}").ToList();
        foreach (string user in users)
        {
            int partition = UserPartitioner.PartitionOf(user, partitions, kafkaKeyed: true);
            Assert.InRange(partition, 0, partitions - 1);
            Assert.Equal(KafkaKeyHash.PartitionOf(user, kafkaPartitions), UserPartitioner.KafkaPartitionOf(partition, kafkaPartitions));
        }
        // Every user partition gets users (the hash spreads them).
        Assert.Equal(partitions, users.Select(u => UserPartitioner.PartitionOf(u, partitions, kafkaKeyed: true)).Distinct().Count());
    }

    [Fact]
    public void Without_colocate_the_stable_hash_must_stay_as_it_was()
    {
        var settings = EntityRoutingSettings.Default;
        Assert.False(settings.Colocate);
        Assert.Equal(UserPartitioner.PartitionOf("user-000042", 64), UserPartitioner.PartitionOf("user-000042", settings));
        Assert.Equal(UserPartitioner.PartitionOf("user-000042", 64, kafkaKeyed: true),
            UserPartitioner.PartitionOf("user-000042", settings with { Colocate = true }));
    }
}
