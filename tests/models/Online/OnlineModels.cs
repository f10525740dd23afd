using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Online;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// A small LSTM champion trained on normal shoppers (days 0-2), its anchor reservoir, normal traffic after a release
/// (days 3-4: samples to learn from, and other users to measure on) and attack users (scrapers, card testers) as canaries.
/// </summary>
public sealed class OnlineModels : IDisposable
{
    public OnlineModels()
    {
        var sessions = SessionSettings.Default;
        var original = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 240, anomalousUsers: 0, days: 3, seed: 21), sessions: sessions);
        Champion = (RecurrentNextEventDetector)DetectorTrainer.Train("lstm", original, Training);
        Anchors = AnchorReservoir.Sample(original, capacity: 120, seed: 3);
        Released = DatasetBuilder.Build(ReleasedShoppers.Generate(users: 80, days: 2, startDay: 3, seed: 5, prefix: "r"), sessions: sessions);
        ReleasedProbe = DatasetBuilder.Build(ReleasedShoppers.Generate(users: 40, days: 2, startDay: 3, seed: 6, prefix: "p"), sessions: sessions);
        Canaries = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 0, anomalousUsers: 24, days: 3, seed: 8), sessions: sessions);
        OriginalProbe = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 60, anomalousUsers: 0, days: 3, seed: 9), sessions: sessions);
    }

    public static TrainingOptions Training { get; } = new()
    {
        Device = "cpu",
        Models = ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.LstmKind,
            p => p with { Hidden = 32, Epochs = 4, LearningRate = 0.01, MaxTrainEvents = 40_000 }),
    };

    public RecurrentNextEventDetector Champion { get; }

    public AnchorReservoir Anchors { get; }

    /// <summary>Normal users after the release: what the guard would hand the fine-tuner.</summary>
    public BehaviorDataset Released { get; }

    /// <summary>Other normal users after the release, never trained on.</summary>
    public BehaviorDataset ReleasedProbe { get; }

    /// <summary>Attack users (labelled anomalous).</summary>
    public BehaviorDataset Canaries { get; }

    /// <summary>Other normal users of the original behaviour, never trained on.</summary>
    public BehaviorDataset OriginalProbe { get; }

    /// <summary>Each user of <paramref name="data"/> as a clearly normal traffic sample.</summary>
    public static List<OnlineSample> SamplesOf(BehaviorDataset data) =>
        data.Users.Select(u => new OnlineSample(u, null, null, u.LastEventMs, ChampionScore: 0, BaseScore: 0)).ToList();

    public void Dispose() => Champion.Dispose();
}
