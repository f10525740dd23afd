using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// `DATA_DIR/streamdetect.json`: what a data directory was created with. The number of user partitions
/// decides which entity owns which user, so a store written with one count must not be opened with
/// another; this file makes that an error that names both values instead of silent mis-routing.
/// </summary>
public static class DataDirectoryMarker
{
    public const string FileName = "streamdetect.json";

    /// <summary>The marker's name for the user hash of <c>streamdetect.routing.colocate = on</c> (absent: the stable hash).</summary>
    public const string KafkaKeyHash = "kafka-murmur2";

    /// <summary>Creates the marker, or checks it against <paramref name="partitions"/> and the user hash. Throws <see cref="InvalidOperationException"/> on mismatch.</summary>
    /// <param name="kafkaKeyed">Users hashed to partitions by the Kafka key hash (<c>streamdetect.routing.colocate = on</c>).</param>
    public static void EnsureCompatible(string dataDirectory, int partitions, string storeKind, bool kafkaKeyed = false)
    {
        Directory.CreateDirectory(dataDirectory);
        string path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(File.ReadAllText(path));
            }
            catch (JsonException e)
            {
                throw new InvalidOperationException($"{path} is not valid JSON ({e.Message}); remove it only if the directory holds no state");
            }
            int existing = node?["partitions"]?.GetValue<int>() ?? -1;
            if (existing != partitions)
                throw new InvalidOperationException(
                    $"data directory '{dataDirectory}' was created with streamdetect.routing.partitions = {existing}, the configuration says {partitions}; " +
                    "use the same value, or a new --data-dir");
            bool existingKafkaKeyed = node?["user-hash"]?.GetValue<string>() == KafkaKeyHash;
            if (existingKafkaKeyed != kafkaKeyed)
                throw new InvalidOperationException(
                    $"data directory '{dataDirectory}' was created with streamdetect.routing.colocate = {(existingKafkaKeyed ? "on" : "off")}, the configuration says " +
                    $"{(kafkaKeyed ? "on" : "off")} (it decides which partition owns which user); use the same value, or a new --data-dir");
            return;
        }
        var marker = new JsonObject { ["partitions"] = partitions, ["store"] = storeKind, ["layout"] = 1 };
        if (kafkaKeyed) marker["user-hash"] = KafkaKeyHash;
        File.WriteAllText(path, marker.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The partition count a data directory was created with, or null when it has no marker.</summary>
    public static int? ReadPartitions(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path)) return null;
        return JsonNode.Parse(File.ReadAllText(path))?["partitions"]?.GetValue<int>();
    }

    /// <summary>Whether a data directory's users are hashed by the Kafka key hash (<c>streamdetect.routing.colocate = on</c>); false without a marker.</summary>
    public static bool ReadKafkaKeyed(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        return File.Exists(path) && JsonNode.Parse(File.ReadAllText(path))?["user-hash"]?.GetValue<string>() == KafkaKeyHash;
    }
}
