using StreamDetect.Models.Dataset;
using StreamDetect.Models.Baselines;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Dataset;

/// <summary>Optional fields may be missing from a whole dataset: everything still trains and scores.</summary>
public sealed class SparseFieldsTests
{
    [Fact]
    public void A_dataset_without_amounts_items_or_devices_trains_and_scores()
    {
        var events = SyntheticTraffic.Shoppers(normalUsers: 150, anomalousUsers: 10, days: 2, seed: 5, optionalFields: false);
        Assert.All(events, e => Assert.True(e.Amount is null && e.Item is null && e.Device is null && e.Ip is null));
        var data = DatasetBuilder.Build(events);
        var options = new TrainingOptions
        {
            Device = "cpu",
            Epochs = 1,
            Models = ModelHyperParameters.Defaults
                .With(EnsembleDetector.Kind, p => p with { Members = ["lstm", "gru", "transformer", "ae", "gan", "knn", "zscore", "iforest"], SelectMembers = false })
                .With(IsolationForestDetector.Kind, p => p with { Trees = 20 }),
        };
        using var detector = DetectorTrainer.Train("ensemble", data, options, cancellation: TestContext.Current.CancellationToken);
        var inputs = data.Users.Select(u => u.Replay(32).Last().ToScoringInput(null)).ToArray();
        var outputs = detector.ScoreBatch(inputs);
        Assert.All(outputs, o => Assert.True(double.IsFinite(o.Score), $"score {o.Score}"));
        Assert.Equal(8, outputs[0].Explanation.Members.Count);
    }
}
