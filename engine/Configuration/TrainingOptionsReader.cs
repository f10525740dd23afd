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
/// The training options and every detector kind's hyper-parameters from HOCON <c>streamdetect.models</c>: the
/// registry's kinds are read each from its own block <c>streamdetect.models.&lt;name&gt;</c>, whose keys are the
/// properties of the kind's hyper-parameter record in kebab case (FieldEmbedding -> field-embedding); keys
/// absent keep the kind's default, unknown keys are refused with their path.
/// </summary>
public static class TrainingOptionsReader
{
    private const string ModelsBlock = "streamdetect.models";

    /// <summary>Reads the training options and the hyper-parameters of every kind of <paramref name="registry"/>
    /// (default: <see cref="DetectorRegistry.Default"/>) from <c>streamdetect.models</c>.</summary>
    public static TrainingOptions Read(Config config, DetectorRegistry? registry = null)
    {
        var r = new SettingsReader(config, ModelsBlock);
        var calibration = r.Nested("calibration");
        return new TrainingOptions
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
                calibration.Int("points", 2, 1 << 20),
                calibration.Double("tail-fraction", 1e-4, 0.5),
                OneOf<CalibrationBasis>(calibration, "basis"),
                calibration.Double("warm-up-days", 0, 365)),
            Models = ReadModels(config, registry ?? DetectorRegistry.Default),
        };
    }

    private static ModelHyperParameters ReadModels(Config config, DetectorRegistry registry)
    {
        CheckEnsembleMembers(config, registry);
        var models = ModelHyperParameters.Defaults;
        foreach (var kind in registry.Kinds)
            models = models.With(kind, HyperParameters(config, kind));
        return models;
    }

    /// <summary>
    /// <c>streamdetect.models.ensemble.members</c> (and <c>.challengers</c>) name models this build knows (other than the ensemble):
    /// refused here, before any work, rather than when the ensemble trains its members.
    /// </summary>
    private static void CheckEnsembleMembers(Config config, DetectorRegistry registry)
    {
        CheckEnsembleList(config, registry, ModelsBlock + ".ensemble.members", mayBeEmpty: false);
        CheckEnsembleList(config, registry, ModelsBlock + ".ensemble.challengers", mayBeEmpty: true);
    }

    private static void CheckEnsembleList(Config config, DetectorRegistry registry, string key, bool mayBeEmpty)
    {
        if (!registry.TryGet("ensemble", out var ensemble) || !config.HasPath(key)) return;
        var members = ReadList(config, key);
        if (members.Count == 0 && !mayBeEmpty) throw new SettingsException(key, "is empty: name at least one model");
        foreach (string name in members)
        {
            if (!registry.TryGet(name, out var kind))
                throw new SettingsException(key, $"unknown model '{name}' (known: {string.Join(", ", registry.Names.Where(n => n != ensemble.Name))})");
            if (kind == ensemble) throw new SettingsException(key, "an ensemble cannot be a member of itself");
        }
    }

    /// <summary>The HOCON keys of a kind's block: its hyper-parameter record's properties in kebab case.</summary>
    public static IReadOnlyList<string> HyperParameterKeys(IDetectorKind kind) =>
        [.. DefaultsNode(kind).Select(p => p.Key)];

    /// <summary>A fixed choice: the enum's member names in kebab case (UserDay -> user-day), case-insensitive.</summary>
    private static T OneOf<T>(SettingsReader r, string key) where T : struct, Enum
    {
        var byName = Enum.GetValues<T>().ToDictionary(v => JsonNamingPolicy.KebabCaseLower.ConvertName(v.ToString()), StringComparer.Ordinal);
        return byName[r.OneOf(key, [.. byName.Keys])];
    }

    private static readonly JsonSerializerOptions KebabJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private static JsonObject DefaultsNode(IDetectorKind kind) =>
        JsonSerializer.SerializeToNode(kind.DefaultHyperParameters, kind.HyperParameterType, KebabJson)!.AsObject();

    /// <summary>
    /// Reads one kind's hyper-parameter block: every property of its record is a kebab-case key
    /// (FieldEmbedding → field-embedding); keys absent from the HOCON keep the kind's default.
    /// </summary>
    private static object HyperParameters(Config config, IDetectorKind kind)
    {
        string path = $"{ModelsBlock}.{kind.Name}";
        if (!config.HasPath(path)) return kind.DefaultHyperParameters;
        var node = DefaultsNode(kind);
        var known = node.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in config.GetConfig(path).AsEnumerable())
        {
            string key = entry.Key.Trim('"');
            if (!known.Contains(key)) throw new SettingsException($"{path}.{key}", $"is not a setting of '{kind.Name}' (known: {string.Join(", ", known)})");
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
        try
        {
            return node.Deserialize(kind.HyperParameterType, KebabJson) ?? throw new SettingsException(path, "is empty");
        }
        catch (JsonException e)
        {
            string key = e.Path is { Length: > 2 } p ? p[2..] : "";
            // A fixed choice (e.g. decision = surprise | top-k): name the words, not the JSON converter's complaint.
            if (ChoiceOf(kind.HyperParameterType, key) is { } choices)
                throw new SettingsException($"{path}.{key}", $"'{config.GetString($"{path}.{key}")}' is not one of: {string.Join(", ", choices)}");
            throw new SettingsException(path + (key.Length > 0 ? "." + key : ""), $"has a value of the wrong type: {e.Message}");
        }
    }

    /// <summary>The kebab-case words of an enum-typed hyper-parameter (its HOCON key), or null when the key is not one.</summary>
    private static IReadOnlyList<string>? ChoiceOf(Type hyperParameters, string key)
    {
        var property = hyperParameters.GetProperties().FirstOrDefault(p => JsonNamingPolicy.KebabCaseLower.ConvertName(p.Name) == key);
        return property?.PropertyType is { IsEnum: true } type
            ? [.. Enum.GetNames(type).Select(JsonNamingPolicy.KebabCaseLower.ConvertName)]
            : null;
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
