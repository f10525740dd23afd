using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>Small models trained in a test on generated traffic (a seed of its own, so never the traffic under test).</summary>
internal static class QuickModel
{
    /// <summary>Trains <paramref name="kind"/> (zscore, gru, ...) on <paramref name="users"/> x <paramref name="days"/> of generated traffic.</summary>
    public static IAnomalyDetector Train(string kind = "zscore", int users = 300, int days = 2, int seed = 4, int? epochs = null)
    {
        var events = new TrafficGenerator(GeneratorSettings.Default with { Users = users, Days = days, Seed = seed }).Events();
        return DetectorTrainer.Train(kind, DatasetBuilder.Build(events), new TrainingOptions { Device = "cpu", Epochs = epochs });
    }

    /// <summary>Trains a model and saves it as DIRECTORY/KIND.sdm; returns the path.</summary>
    public static string TrainAndSave(string directory, string kind = "zscore", int users = 300, int days = 2, int seed = 4, int? epochs = null)
    {
        using var detector = Train(kind, users, days, seed, epochs);
        string path = Path.Combine(directory, kind + ".sdm");
        detector.Save(path);
        return path;
    }
}
