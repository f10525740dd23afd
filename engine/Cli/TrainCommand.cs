using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Akka.Configuration;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Events;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// `streamdetect train`: trains a detector on an event file and saves the model file. Defaults come from
/// the HOCON block <c>streamdetect.models</c>; options override them. Progress goes to stderr.
/// </summary>
public static class TrainCommand
{
    private const string ModelsBlock = "streamdetect.models";

    public static Command Create()
    {
        var data = new Option<string>("--data") { HelpName = "FILE", Description = "Event file to train on (JSON Lines or CSV, time-ordered)" };
        var model = new Option<string>("--model")
        {
            HelpName = "NAME",
            Description = $"Model to train: {string.Join("|", DetectorRegistry.Default.Names)}",
        };
        var output = new Option<string>("--out") { HelpName = "MODEL", Description = "Where to write the model file" };
        var device = new Option<string?>("--device") { HelpName = "cpu|cuda|auto", Description = "cpu, cuda or auto (cuda when available); default streamdetect.models.device" };
        var epochs = new Option<string?>("--epochs") { HelpName = "N", Description = "Epochs for every neural model (overrides each model's default)" };
        var seed = new Option<string?>("--seed") { HelpName = "S", Description = "Random seed (same data + seed = same model on CPU); default streamdetect.models.seed" };
        var until = new Option<string?>("--train-until") { HelpName = "ISO8601", Description = "Train on events before this ISO 8601 time (UTC if no offset)" };
        var days = new Option<string?>("--train-days") { HelpName = "D", Description = "Train on the first D days (counted from midnight UTC of the first event's day)" };
        var includeLabelled = new Option<bool>("--include-labelled")
        {
            Description = "Train on every user; by default users with an event labelled anomalous are left out (labels never reach a model)",
        };

        var command = new Command("train", "Train an anomaly detector on an event file and save it as a model file")
        {
            data, model, output, device, epochs, seed, until, days, includeLabelled,
        };
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(token =>
        {
            string dataPath = RequireExistingFile(parse.GetValue(data), "--data");
            string name = parse.GetValue(model) ?? throw new UserInputException("--model is required");
            if (!DetectorRegistry.Default.TryGet(name, out _))
                throw new UserInputException($"--model '{name}' is not one of: {string.Join(", ", DetectorRegistry.Default.Names)}");
            string outPath = parse.GetValue(output) ?? throw new UserInputException("--out is required");
            string? outDirectory = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (outDirectory is not null && !Directory.Exists(outDirectory))
                throw new UserInputException($"--out '{outPath}': directory '{outDirectory}' does not exist");
            if (parse.GetValue(until) is not null && parse.GetValue(days) is not null)
                throw new UserInputException("give --train-until or --train-days, not both");
            int? epochCount = IntOption(parse.GetValue(epochs), "--epochs", 1, 100_000);
            int? seedValue = IntOption(parse.GetValue(seed), "--seed", int.MinValue, int.MaxValue);
            double? trainDays = NumberOption(parse.GetValue(days), "--train-days");

            var config = CommonOptions.LoadConfig(parse);
            var options = ReadOptions(config);
            options = options with
            {
                Device = parse.GetValue(device) ?? options.Device,
                Seed = seedValue ?? options.Seed,
                Epochs = epochCount ?? options.Epochs,
                ExcludeLabelledUsers = !parse.GetValue(includeLabelled) && options.ExcludeLabelledUsers,
            };
            ResolveDevice(options.Device, "--device");
            ApplyThreads(options);
            int windowSize = WindowSize(config);

            var clock = Stopwatch.StartNew();
            var events = ReadEvents(dataPath, config, out long rejected);
            var dataset = DatasetBuilder.Build(events, windowSize);
            if (dataset.EventCount == 0) throw new UserInputException($"--data '{dataPath}' holds no valid events");
            long? cut = TimeOption(parse.GetValue(until), "--train-until") ?? DaysAfterStart(dataset.FirstEventMs, trainDays, "--train-days");
            if (cut is long cutMs) dataset = dataset.Before(cutMs);
            if (dataset.EventCount == 0) throw new UserInputException("the training period holds no events");
            Console.Error.WriteLine($"read {dataset.EventCount} events of {dataset.Users.Count} users from '{dataPath}'" +
                (rejected > 0 ? $" ({rejected} records rejected)" : "") +
                (cut is long c ? $", training before {DateTime.UnixEpoch.AddMilliseconds(c):O}" : "") +
                $" in {clock.Elapsed.TotalSeconds:F1}s");

            var progress = new ConsoleProgress();
            IAnomalyDetector detector;
            try
            {
                detector = DetectorTrainer.Train(name, dataset, options, progress, cancellation);
            }
            catch (ArgumentException e)
            {
                throw new UserInputException(e.Message, e);
            }
            using (detector)
            {
                if (detector is AnomalyDetector concrete) concrete.ExplainFrom = options.ExplainFrom;
                detector.Save(outPath);
                Console.WriteLine($"trained {detector.Name}@{detector.Version} in {clock.Elapsed.TotalSeconds:F1}s; " +
                    $"threshold {detector.Threshold.For(options.AlertRate):F3} at alert rate {options.AlertRate} per day; saved to {outPath}");
            }
            return Task.FromResult(0);
        }, cancellation));
        return command;
    }

    /// <summary>Reads the training options (and every model's hyper-parameters) from <c>streamdetect.models</c>.</summary>
    internal static TrainingOptions ReadOptions(Config config)
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

    /// <summary>The per-user window of the streaming entities (<c>streamdetect.entities.window-size</c>): offline
    /// replay keeps the same window, so training and evaluation see what serving sees.</summary>
    internal static int WindowSize(Config config) => new SettingsReader(config, "streamdetect.entities").Int("window-size", 2, 4096);

    internal static void ApplyThreads(TrainingOptions options)
    {
        if (options.TorchThreads > 0) TorchSharp.torch.set_num_threads(options.TorchThreads);
    }

    internal static void ResolveDevice(string device, string option)
    {
        try
        {
            ComputeDevice.Resolve(device);
        }
        catch (ArgumentException e)
        {
            throw new UserInputException($"{option}: {e.Message}", e);
        }
    }

    internal static string RequireExistingFile(string? path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UserInputException($"{option} is required");
        if (!File.Exists(path)) throw new UserInputException($"{option} '{path}' does not exist");
        return path;
    }

    internal static List<UserEvent> ReadEvents(string path, Config config, out long rejected)
    {
        long bad = 0;
        try
        {
            var events = EventFile.Read(path, ValidationSettings.Create(config), _ => bad++).ToList();
            rejected = bad;
            return events;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"cannot read '{path}': {e.Message}", e);
        }
    }

    internal static int? IntOption(string? value, string option, int min, int max)
    {
        if (value is null) return null;
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number) || number < min || number > max)
            throw new UserInputException($"{option} '{value}' is not an integer in [{min}, {max}]");
        return number;
    }

    internal static double? NumberOption(string? value, string option)
    {
        if (value is null) return null;
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number))
            throw new UserInputException($"{option} '{value}' is not a number");
        return number;
    }

    internal static long? TimeOption(string? value, string option)
    {
        if (value is null) return null;
        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            throw new UserInputException($"{option} '{value}' is not an ISO 8601 time (e.g. 2026-11-04T00:00:00Z)");
        return time.ToUnixTimeMilliseconds();
    }

    internal static long? DaysAfterStart(long firstEventMs, double? days, string option)
    {
        if (days is null) return null;
        if (!(days > 0)) throw new UserInputException($"{option} must be > 0");
        long midnight = firstEventMs - ((firstEventMs % 86_400_000) + 86_400_000) % 86_400_000;
        return midnight + (long)Math.Round(days.Value * 86_400_000);
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

    private sealed class ConsoleProgress : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => Console.Error.WriteLine(value.ToString());
    }
}
