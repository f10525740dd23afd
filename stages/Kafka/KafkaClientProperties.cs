using Akka.Configuration;
using Akka.Configuration.Hocon;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Reads a <c>properties { }</c> block of raw librdkafka client properties (passed through untouched,
/// so SASL/SSL and tuning need no code) and guards the few that StreamDetect manages itself.
/// </summary>
internal static class KafkaClientProperties
{
    /// <summary>The block shared by every Kafka client.</summary>
    public const string SharedPath = "streamdetect.kafka";

    /// <summary>
    /// The properties under <paramref name="key"/> of <paramref name="reader"/>'s block. Keys may be quoted
    /// (<c>"sasl.mechanism" = PLAIN</c>) or written as nested HOCON paths (<c>sasl.mechanism = PLAIN</c>);
    /// both become the dotted librdkafka name.
    /// </summary>
    public static Dictionary<string, string> Read(SettingsReader reader, string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!reader.Has(key)) return result;
        Config block = reader.Config.GetConfig(key);
        if (block is null) return result;
        foreach (var entry in block.AsEnumerable())
            Flatten(reader.Key(key), entry.Key.Trim('"'), entry.Value, result);
        return result;
    }

    /// <summary>The shared properties (<c>streamdetect.kafka.properties</c>) overlaid by a client's own.</summary>
    public static Dictionary<string, string> Merge(Config config, SettingsReader client)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        if (config.HasPath(SharedPath))
        {
            var shared = new SettingsReader(config, SharedPath);
            foreach (var (name, value) in Read(shared, "properties")) merged[name] = value;
        }
        foreach (var (name, value) in Read(client, "properties")) merged[name] = value;
        return merged;
    }

    /// <summary>The client's bootstrap servers, or the shared ones when the client's are empty.</summary>
    public static string BootstrapServers(Config config, SettingsReader client)
    {
        string? own = client.OptionalString("bootstrap-servers");
        if (own is not null) return own;
        if (!config.HasPath(SharedPath))
            throw new SettingsException(client.Key("bootstrap-servers"), $"is empty and {SharedPath}.bootstrap-servers is missing");
        return new SettingsReader(config, SharedPath).String("bootstrap-servers");
    }

    /// <summary>Rejects a property that StreamDetect sets itself, naming the setting to use instead.</summary>
    public static void Forbid(IReadOnlyDictionary<string, string> properties, string propertiesKey, string name, string instead)
    {
        if (properties.ContainsKey(name))
            throw new SettingsException($"{propertiesKey}.\"{name}\"", $"is managed by StreamDetect; {instead}");
    }

    private static void Flatten(string where, string prefix, HoconValue value, Dictionary<string, string> result)
    {
        if (value.IsObject())
        {
            foreach (var child in value.GetObject().Items)
                Flatten(where, $"{prefix}.{child.Key.Trim('"')}", child.Value, result);
            return;
        }
        if (value.IsArray())
            throw new SettingsException($"{where}.\"{prefix}\"", "must be a string, number or boolean, not a list (librdkafka lists are comma-separated strings)");
        result[prefix] = value.GetString() ?? "";
    }
}
