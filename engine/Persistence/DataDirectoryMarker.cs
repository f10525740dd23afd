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

    /// <summary>Creates the marker, or checks it against <paramref name="partitions"/>. Throws <see cref="InvalidOperationException"/> on mismatch.</summary>
    public static void EnsureCompatible(string dataDirectory, int partitions, string storeKind)
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
            return;
        }
        var marker = new JsonObject { ["partitions"] = partitions, ["store"] = storeKind, ["layout"] = 1 };
        File.WriteAllText(path, marker.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The partition count a data directory was created with, or null when it has no marker.</summary>
    public static int? ReadPartitions(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path)) return null;
        return JsonNode.Parse(File.ReadAllText(path))?["partitions"]?.GetValue<int>();
    }
}
