using System.Text.Json;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Online;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Online;

/// <summary>The registry's origin detail of a fine-tuning round.</summary>
public sealed class FineTuneResultTests
{
    [Fact]
    public void DetailJson_writes_null_for_losses_and_distance_that_are_not_finite_numbers()
    {
        var data = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 20, anomalousUsers: 0, days: 1, seed: 2), sessions: SessionSettings.Default);
        using var detector = DetectorTrainer.Train("zscore", data, new TrainingOptions { Device = "cpu" }, cancellation: TestContext.Current.CancellationToken);
        var result = new FineTuneResult
        {
            Candidate = detector,
            ParentVersion = "parent",
            BaseVersion = "base",
            Steps = 0,
            TrainingSamples = 3,
            FalseAlarmLabels = 0,
            AnchorUsers = 5,
            TrainedEvents = 0,
            HeldBack = data,
            FirstEventTimeMs = 0,
            LastEventTimeMs = 3_600_000,
            // A round without a step has no loss (NaN); a diverged one an infinite loss.
            FirstLoss = double.NaN,
            LastLoss = double.PositiveInfinity,
            Distance = double.NegativeInfinity,
            Elapsed = TimeSpan.FromSeconds(1.5),
            Device = "cpu",
            Vocabulary = new VocabularyGrowth { Assigned = [], SlotsFull = [], BelowMinimum = [], FreeSlots = 0 },
        };

        using var json = JsonDocument.Parse(result.DetailJson());

        var root = json.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("first_loss").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("last_loss").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("distance").ValueKind);
        Assert.Equal(0, root.GetProperty("steps").GetInt32());
        Assert.Equal(1.5, root.GetProperty("seconds").GetDouble());

        var finite = result with { FirstLoss = 1.75, LastLoss = 1.5, Distance = 0.01 };
        using var written = JsonDocument.Parse(finite.DetailJson());
        Assert.Equal(1.75, written.RootElement.GetProperty("first_loss").GetDouble());
        Assert.Equal(0.01, written.RootElement.GetProperty("distance").GetDouble());
    }
}
