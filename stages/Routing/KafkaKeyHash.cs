using System.Text;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// The hash Kafka's default partitioner puts on a record key: the Java client's murmur2 of the key's
/// bytes, made positive (<c>Utils.toPositive(Utils.murmur2(key)) % partitions</c>), which librdkafka
/// clients get with <c>partitioner=murmur2_random</c>. A producer keying a user's events by the userId
/// (UTF-8) puts them in Kafka partition <c>Of(userId) % K</c>.
/// </summary>
public static class KafkaKeyHash
{
    /// <summary>The positive murmur2 hash of <paramref name="key"/>'s UTF-8 bytes.</summary>
    public static int Of(string key)
    {
        int count = Encoding.UTF8.GetByteCount(key);
        Span<byte> bytes = count <= 256 ? stackalloc byte[count] : new byte[count];
        Encoding.UTF8.GetBytes(key, bytes);
        return Murmur2(bytes) & 0x7fffffff;
    }

    /// <summary>The Kafka partition (of <paramref name="partitions"/>) the default partitioner gives a record keyed <paramref name="key"/>.</summary>
    public static int PartitionOf(string key, int partitions) => Of(key) % partitions;

    /// <summary>Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2, seed 0x9747b28c), bit for bit.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        int length = data.Length;
        uint h = 0x9747b28c ^ (uint)length;
        int fours = length / 4;
        for (int i = 0; i < fours; i++)
        {
            int i4 = i * 4;
            uint k = data[i4] | ((uint)data[i4 + 1] << 8) | ((uint)data[i4 + 2] << 16) | ((uint)data[i4 + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        int tail = fours * 4;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return (int)h;
    }
}
