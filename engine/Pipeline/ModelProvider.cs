using StreamDetect.Engine.Configuration;
using System.Diagnostics;
using Akka.Configuration;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Events;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Training;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Gets the run's model: loads --model, or trains the configured detector (streamdetect.run.model) on
/// the first streamdetect.run.train-days of the run's own traffic — the same events the engine then
/// streams, so the evaluation that follows covers only the days after training.
/// </summary>
public static class ModelProvider
{
    public static IAnomalyDetector Load(string path, string device)
    {
        if (!File.Exists(path)) throw new UserInputException($"model file '{path}' does not exist");
        try
        {
            return DetectorFile.Load(path, device);
        }
        catch (ModelFileException e)
        {
            throw new UserInputException(e.Message, e);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or EndOfStreamException or ArgumentException)
        {
            throw new UserInputException($"model file '{path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks a model file without building its networks (before any work starts): it exists, is whole
    /// (format, checksum, sections), computes this build's features and holds a detector this build knows.
    /// </summary>
    public static void Check(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"model file '{path}' does not exist");
        try
        {
            var file = ModelFileReader.Open(path);
            if (file.FeatureSchemaVersion != Models.Features.FeatureSchema.Version)
                throw new UserInputException($"model file '{path}': was trained on feature schema version {file.FeatureSchemaVersion}; this build computes version {Models.Features.FeatureSchema.Version} (retrain the model)");
            if (!DetectorRegistry.Default.TryGet(file.DetectorName, out _))
                throw new UserInputException($"model file '{path}': holds a '{file.DetectorName}' detector, which this build does not know (known: {string.Join(", ", DetectorRegistry.Default.Names)})");
        }
        catch (ModelFileException e)
        {
            throw new UserInputException(e.Message, e);
        }
    }

    /// <summary>
    /// Trains on the events before the end of the training period: <paramref name="cutMs"/>, or else
    /// train-days after midnight (UTC) of the first event's day.
    /// </summary>
    public static TrainedModel Train(Config config, RunSettings run, IEnumerable<UserEvent> events, long? cutMs, string? device, string? saveDirectory, TextWriter log,
        CancellationToken cancellation = default)
    {
        var options = TrainingOptionsReader.Read(config);
        if (device is not null) options = options with { Device = device };
        int window = Entities.UserPartitionSettings.Create(config).WindowSize;

        var clock = Stopwatch.StartNew();
        var all = DatasetBuilder.Build(events, window, SessionSettingsReader.Read(config));
        if (all.EventCount == 0) throw new UserInputException("there are no events to train on");
        long cut = cutMs ?? (all.FirstEventMs - ((all.FirstEventMs % 86_400_000) + 86_400_000) % 86_400_000 + (long)(run.TrainDays * 86_400_000));
        var training = all.Before(cut);
        log.WriteLine($"[training] {run.Model} on {training.EventCount:N0} events of {training.Users.Count:N0} users (the first {run.TrainDays:g} days)");
        // Ctrl-C or SIGTERM stops training between batches.
        var detector = DetectorTrainer.Train(run.Model, training, options, new Progress(log), cancellation);
        log.WriteLine($"[training] {detector.Name}@{detector.Version} trained in {clock.Elapsed.TotalSeconds:F1} s");

        string? path = null;
        if (saveDirectory is not null)
        {
            Directory.CreateDirectory(saveDirectory);
            path = Path.Combine(saveDirectory, $"{detector.Name}-{detector.Version}.sdm");
            detector.Save(path);
            log.WriteLine($"[training] saved to {path} (reuse with --model)");
        }
        return new TrainedModel(detector, cut, path, clock.Elapsed) { TrainingData = training };
    }

    private sealed class Progress(TextWriter log) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => log.WriteLine("[training] " + value);
    }
}
