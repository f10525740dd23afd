using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>One quick z-score model, trained on generated traffic, for every broker fault test (training it once keeps each test short).</summary>
public sealed class KafkaFaultModelFixture : IDisposable
{
    private readonly TempDirectory _dir = new("sd-kafka-faults-model-");

    public KafkaFaultModelFixture()
    {
        var events = new TrafficGenerator(GeneratorSettings.Default with { Users = 300, Days = 2, Seed = 4 }).Events();
        using var detector = DetectorTrainer.Train("zscore", DatasetBuilder.Build(events), new TrainingOptions { Device = "cpu" });
        ModelPath = _dir.File("zscore.sdm");
        detector.Save(ModelPath);
    }

    /// <summary>The model file.</summary>
    public string ModelPath { get; }

    public void Dispose() => _dir.Dispose();
}
