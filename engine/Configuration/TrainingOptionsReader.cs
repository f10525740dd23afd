using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Akka.Configuration;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Configuration;

/// <summary>
/// The training options and every model's hyper-parameters from HOCON <c>streamdetect.models</c>: a model's
/// block is its record's properties as kebab-case keys (FieldEmbedding -> field-embedding); keys absent keep
/// the record's default, unknown keys are refused with their path.
/// </summary>
public static class TrainingOptionsReader
{
    private const string ModelsBlock = "streamdetect.models";

    /// <summary>Reads the training options (and every model's hyper-parameters) from <c>streamdetect.models</c>.</summary>
    public static TrainingOptions Read(Config config)
    {
        var r = new SettingsReader(config, ModelsBlock);
        var defaults = new TrainingOptions();
        var options = defaults with
        {
            Device = r.OneOf("device", "auto", "cpu", "cuda"),
            Seed = r.Int("seed"),
            ValidationFraction = r.Double("validation-fraction", 0.01, 0.9),
            ExcludeLabelledUsers = r.Bool("exclude-labelled-users"),
            ScoringBatchSize = r.Int("scoring-batch-size", 1, 1 << 20),
            TorchThreads = r.Int("torch-threads", 0, 1024),
            ExplainFrom = r.Double("explain-from", 0, 1000),
            AlertRate = r.Double("alert-rate", 1e-6, 0.5),
            Calibration = new CalibrationOptions(
                r.Nested("calibration").Int("points", 2, 1 << 20),
                r.Nested("calibration").Double("tail-fraction", 1e-4, 0.5),
                r.Nested("calibration").OneOf("basis", "user-day", "event") == "event" ? CalibrationBasis.Event : CalibrationBasis.UserDay,
                r.Nested("calibration").Double("warm-up-days", 0, 365)),
        };
        var models = defaults.Models;
        return options with
        {
            Models = models with
            {
                Lstm = Block<Models.Sequence.RecurrentHyperParameters>(config, "lstm", models.Lstm) with { Cell = Models.Sequence.RecurrentCell.Lstm },
                Gru = Block<Models.Sequence.RecurrentHyperParameters>(config, "gru", models.Gru) with { Cell = Models.Sequence.RecurrentCell.Gru },
                Transformer = Block(config, "transformer", models.Transformer),
                Autoencoder = Block(config, "ae", models.Autoencoder),
                Gan = Block(config, "gan", models.Gan),
                Knn = Block(config, "knn", models.Knn),
                ZScore = Block(config, "zscore", models.ZScore),
                IsolationForest = Block(config, "iforest", models.IsolationForest),
                Ensemble = Block(config, "ensemble", models.Ensemble),
            },
        };
    }

    private static readonly JsonSerializerOptions KebabJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>
    /// Reads one model's hyper-parameter block: every property of the record is a kebab-case key
    /// (FieldEmbedding → field-embedding); keys absent from the HOCON keep the record's default.
    /// </summary>
    private static T Block<T>(Config config, string name, T defaults)
    {
        string path = $"{ModelsBlock}.{name}";
        var node = JsonSerializer.SerializeToNode(defaults, KebabJson)!.AsObject();
        if (config.HasPath(path))
        {
            var known = node.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var entry in config.GetConfig(path).AsEnumerable())
            {
                string key = entry.Key.Trim('"');
                if (!known.Contains(key)) throw new SettingsException($"{path}.{key}", $"is not a setting of '{name}' (known: {string.Join(", ", known)})");
            }
            foreach (var (key, current) in node.ToArray())
            {
                string keyPath = $"{path}.{key}";
                if (!config.HasPath(keyPath)) continue;
                node[key] = current switch
                {
                    JsonArray => new JsonArray(ReadList(config, keyPath).Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
                    JsonValue v when v.GetValueKind() is JsonValueKind.Number => JsonValue.Create(ReadNumber(config, keyPath)),
                    JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => JsonValue.Create(ReadBool(config, keyPath)),
                    _ => JsonValue.Create(config.GetString(keyPath)),
                };
            }
        }
        try
        {
            return node.Deserialize<T>(KebabJson) ?? throw new SettingsException(path, "is empty");
        }
        catch (JsonException e)
        {
            throw new SettingsException(path + (e.Path is { Length: > 2 } p ? "." + p[2..] : ""), $"has a value of the wrong type: {e.Message}");
        }
    }

    private static IReadOnlyList<string> ReadList(Config config, string path)
    {
        try
        {
            return config.GetStringList(path).ToArray();
        }
        catch (Exception e) when (e is ConfigurationException or InvalidCastException or FormatException)
        {
            throw new SettingsException(path, "must be a list of strings, e.g. [\"a\", \"b\"]");
        }
    }

    private static double ReadNumber(Config config, string path)
    {
        string raw = config.GetString(path) ?? "";
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            throw new SettingsException(path, $"'{raw}' is not a number");
        return value;
    }

    private static bool ReadBool(Config config, string path) =>
        (config.GetString(path) ?? "").ToLowerInvariant() switch
        {
            "true" or "on" or "yes" => true,
            "false" or "off" or "no" => false,
            var raw => throw new SettingsException(path, $"'{raw}' is not a boolean (true/false)"),
        };

}
