using System.Collections.Concurrent;
using StreamDetect.Models.Adversarial;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Neighbours;
using StreamDetect.Models.Reconstruction;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Training;

[assembly: AssemblyFixture(typeof(StreamDetect.Models.Tests.Support.TrainedDetectors))]

namespace StreamDetect.Models.Tests.Support;

/// <summary>
/// Detectors trained once per test run on synthetic shoppers with planted scrapers and card testers
/// (small epochs: the tests check behaviour, not the last bit of quality).
/// </summary>
public sealed class TrainedDetectors : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<IAnomalyDetector>> _detectors = new();
    private readonly object _training = new();

    public TrainedDetectors()
    {
        Data = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 500, anomalousUsers: 40, days: 4, seed: 11),
            sessions: SessionSettings.Default);
    }

    /// <summary>The training (and evaluation) data: labelled normal and anomalous users, their sessions closed by the
    /// default rule (so every detector trains on and scores session end markers).</summary>
    public BehaviorDataset Data { get; }

    public static TrainingOptions Options { get; } = new()
    {
        Device = "cpu",
        Models = ModelHyperParameters.Defaults
            .With(RecurrentNextEventDetector.LstmKind, p => p with { Epochs = 3 })
            .With(RecurrentNextEventDetector.GruKind, p => p with { Epochs = 3 })
            // knn too, and no selection: every member kind gets exercised (MemberSelectionTests test the selection)
            .With(EnsembleDetector.Kind, p => p with { Members = ["gru", "knn", "zscore", "ae"], SelectMembers = false })
            .With(TransformerNextEventDetector.Kind, p => p with { Epochs = 2 })
            .With(AutoencoderDetector.Kind, p => p with { Epochs = 5 })
            .With(KnnDetector.Kind, p => p with { Reservoir = 1024 })
            .With(GanDetector.Kind, p => p with { Hidden = 64, Epochs = 6 }),
    };

    /// <summary>The detector of a kind, trained on first use (thread-safe).</summary>
    /// <remarks>
    /// One training at a time, as the product trains (fewer allocations racing a training step). Once,
    /// with several trainings at once, TorchSharp's Adam.step failed inside libtorch (c10::Scalar::toDouble:
    /// "Expected false to be true"): a TorchSharp defect, a Scalar finalized by the GC during the native
    /// call; <see cref="Native.TorchSharpScalarLifetimeTests"/> reproduces it on demand.
    /// </remarks>
    public IAnomalyDetector Get(string model) =>
        _detectors.GetOrAdd(model, name => new Lazy<IAnomalyDetector>(() =>
        {
            lock (_training) return DetectorTrainer.Train(name, Data, Options);
        })).Value;

    public void Dispose()
    {
        foreach (var detector in _detectors.Values.Where(d => d.IsValueCreated)) detector.Value.Dispose();
    }
}
