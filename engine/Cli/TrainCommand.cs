using StreamDetect.Engine.Configuration;
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
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Registry;
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
        var dataDir = new Option<string?>("--data-dir")
        {
            HelpName = "DIR",
            Description = "Also register the model in this data directory's model registry (`streamdetect models`), as the champion when the registry has none; with --config hocon/postgres.conf in the PostgreSQL store",
        };
        var includeLabelled = new Option<bool>("--include-labelled")
        {
            Description = "Train on every user; by default users with an event labelled anomalous are left out (labels never reach a model)",
        };

        var command = new Command("train", "Train an anomaly detector on an event file and save it as a model file. Models (hyper-parameters in streamdetect.models.NAME):" +
            string.Concat(DetectorRegistry.Default.Kinds.Select(k => $"\n  {k.Name,-12} {k.Description}")))
        {
            data, model, output, device, epochs, seed, until, days, includeLabelled, dataDir,
        };
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, token =>
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

            string? registryDirectory = parse.GetValue(dataDir);
            var config = CommonOptions.LoadConfig(parse, registryDirectory is null ? null : $"streamdetect.store.data-dir = {RunCommand.HoconString(registryDirectory)}");
            var store = registryDirectory is null ? null : StoreSettings.Create(config);
            if (store is { Kind: "sqlite" }) WritableDataDirectory.Ensure(store.DataDirectory, [store.SqliteFile]);
            var options = TrainingOptionsReader.Read(config);
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
            var dataset = DatasetBuilder.Build(events, windowSize, SessionSettingsReader.Read(config));
            if (dataset.EventCount == 0) throw new UserInputException($"--data '{dataPath}' holds no valid events");
            long? cut = TimeOption(parse.GetValue(until), "--train-until") ?? DaysAfterStart(dataset.FirstEventMs, trainDays, "--train-days");
            if (cut is long cutMs) dataset = dataset.Before(cutMs);
            if (dataset.EventCount == 0) throw new UserInputException("the training period holds no events");
            Console.Error.WriteLine($"read {dataset.EventCount} events of {dataset.Users.Count} users ({dataset.EntryCount - dataset.EventCount} session ends) from '{dataPath}'" +
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
                    $"threshold {detector.Threshold.For(options.AlertRate):F3} at alert rate {options.AlertRate} per active entity-day ({detector.DecisionRule}); saved to {outPath}");
                if (store is not null)
                    StartupRegistration.Register(store, detector, new OriginDetail(dataset.EventCount, DateTimeOffset.FromUnixTimeMilliseconds(dataset.FirstEventMs),
                        DateTimeOffset.FromUnixTimeMilliseconds(cut ?? dataset.LastEventMs + 1), Source: $"train --data {dataPath}"), Console.Error);
            }
            return Task.FromResult(0);
        }, cancellation));
        return command;
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
        catch (FormatException e)
        {
            throw new UserInputException($"--data '{path}': {e.Message}", e); // an unusable CSV header
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

    private sealed class ConsoleProgress : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => Console.Error.WriteLine(value.ToString());
    }
}
