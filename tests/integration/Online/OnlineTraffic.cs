using System.Text;
using StreamDetect.Engine.Online;
using StreamDetect.Engine.Registry;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Online;
using StreamDetect.Models.Replay;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>
/// A small lstm champion trained on two days of generated traffic (its anchors, and its attack users as canaries), and
/// the two days after them as decided requests: each entry replayed through the champion, as the live path decides it
/// (one new event per request, its order key its time). Which requests alert is the test's choice.
/// </summary>
public sealed class OnlineTraffic : IDisposable
{
    public const int Window = 32;
    public static readonly DateTime LiveStart = new(2026, 11, 3, 0, 0, 0, DateTimeKind.Utc);

    public OnlineTraffic()
    {
        var trainingGenerator = new TrafficGenerator(GeneratorSettings.Default with { Users = 120, Days = 2, Seed = 4 });
        var training = DatasetBuilder.Build(trainingGenerator.Events(), Window, Sessions);
        TrainingData = training;
        TrainingTruth = trainingGenerator.Truth;
        Champion = DetectorTrainer.Train("lstm", training, Training);
        // As the engine does (OnlineLearningSetup): anchors from the normal users only; an attacker among them would set
        // the canary threshold at its own score.
        Anchors = AnchorReservoir.Sample(training.WithoutLabelledUsers(), capacity: 60, seed: 3);
        // The canaries: attack episodes of the training period that a next-event model can see (a sequence of types
        // unlike a shopper's), twenty users rather than the training days' two or three.
        var episodes = DatasetBuilder.Build(new TrafficGenerator(GeneratorSettings.Default with
        {
            Users = 40, Days = 2, Seed = 5, AnomalyRate = 0.5, AnomalyScenarios = CanaryScenarios,
        }).Events(), Window, Sessions);
        var normal = episodes.WithoutLabelledUsers().Users.Select(u => u.UserId).ToHashSet(StringComparer.Ordinal);
        Canaries = new BehaviorDataset(episodes.Users.Where(u => !normal.Contains(u.UserId)).ToArray(), Window);
        Live = DatasetBuilder.Build(new TrafficGenerator(GeneratorSettings.Default with { Users = 80, Days = 2, Seed = 9, Start = LiveStart }).Events(), Window, Sessions);
        Attacks = DatasetBuilder.Build(new TrafficGenerator(GeneratorSettings.Default with { Users = 80, Days = 2, Seed = 12, Start = LiveStart, AnomalyRate = 0.6 }).Events(), Window, Sessions);
    }

    public static SessionSettings Sessions => SessionSettings.Default;

    /// <summary>The scenarios of the canary users.</summary>
    public static IReadOnlyList<string> CanaryScenarios { get; } = [Scenarios.CardTesting, Scenarios.AccountTakeover, Scenarios.EventBurst, Scenarios.CheckoutLoop];

    public static TrainingOptions Training { get; } = new()
    {
        Device = "cpu",
        Models = ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.LstmKind,
            p => p with { Hidden = 16, Epochs = 1, LearningRate = 0.01, MaxTrainEvents = 6_000 }),
    };

    public IAnomalyDetector Champion { get; }

    /// <summary>The two days the champion was trained on (a few labelled attack users among them).</summary>
    public BehaviorDataset TrainingData { get; }

    /// <summary>userId -> scenario (or "normal") of <see cref="TrainingData"/>: the generator's ground truth.</summary>
    public IReadOnlyDictionary<string, string> TrainingTruth { get; }

    public AnchorReservoir Anchors { get; }

    public BehaviorDataset Canaries { get; }

    /// <summary>Generated traffic of the two days after training (2% attackers, labelled).</summary>
    public BehaviorDataset Live { get; }

    /// <summary>The same days with 60% attackers.</summary>
    public BehaviorDataset Attacks { get; }

    public static OnlineLearningOptions Options { get; } = new()
    {
        Enabled = true,
        HoldBack = TimeSpan.FromHours(6),
        AnchorUsers = 60,
        StepsPerVersion = 8,
        BatchSize = 8,
        MaxPerUser = 5,
    };

    public static OnlineTrainerSettings Settings { get; } = new()
    {
        Cadence = TimeSpan.FromHours(6),
        ShadowWindow = TimeSpan.FromHours(6),
        RollbackWindow = TimeSpan.FromHours(12),
        MinWindowUsers = 10,
        MinSampleUsers = 6,
        SampleShare = 0.5,
        TorchThreads = 1,
    };

    public OnlineTrainer Trainer(ScriptedSchedule schedule, OnlineLearningOptions? options = null, OnlineTrainerSettings? settings = null, ModelRegistry? registry = null,
        TextWriter? log = null, BehaviorDataset? canaries = null, IReadOnlyList<string>? canaryScenarios = null) =>
        new(schedule, _ => true, Champion, Anchors, canaries ?? Canaries, options ?? Options, settings ?? Settings, Training, Sessions, Window, TimeSpan.FromHours(6), registry,
            log ?? TextWriter.Null, canaryScenarios);

    /// <summary>Each entry of <paramref name="data"/> scored by the champion, as a decided request (key order);
    /// <paramref name="alerts"/> says which alert (user, its calibrated score, whether it is in cooldown).</summary>
    public IReadOnlyList<DecidedRequest> Decided(BehaviorDataset data, Func<string, double, bool, bool> alerts)
    {
        var scored = new List<ReplayScore>();
        StreamingReplay.Run(data, Champion, new ReplayOptions(512), scored.Add);
        var requests = new List<DecidedRequest>(scored.Count);
        var states = new Dictionary<string, UserAlertState>(StringComparer.Ordinal);
        int alertNumber = 0;
        foreach (var score in scored.OrderBy(s => s.TimestampMs).ThenBy(s => data.Users[s.UserIndex].UserId, StringComparer.Ordinal).ThenBy(s => s.EventIndex))
        {
            var user = data.Users[score.UserIndex];
            var entries = user.Entries;
            int from = Math.Max(0, score.EventIndex - Window + 1);
            var window = entries[from..(score.EventIndex + 1)];
            var state = states.GetValueOrDefault(user.UserId, UserAlertState.None);
            bool cooldown = state.LastAlertMs != long.MinValue && score.TimestampMs - state.LastAlertMs < TimeSpan.FromHours(6).TotalMilliseconds;
            var request = new ScoringRequest(user.UserId, 0, window, 1, new float[FeatureSchema.Count], null, score.EventIndex + 1, user.FirstEventMs,
                [score.TimestampMs], state, new RequestTicket(1, requests.Count)) { Devices = ["dev-" + user.UserId], Ips = ["ip-" + user.UserId] };
            IReadOnlyList<AlertRecord> raised = [];
            if (!cooldown && alerts(user.UserId, score.Output.Score, cooldown))
            {
                string id = $"alert-{++alertNumber}";
                raised = [new AlertRecord(id, user.UserId, score.TimestampMs, score.TimestampMs, request.EventIndexOf(0), Encoding.UTF8.GetBytes("{}"))];
                states[user.UserId] = state.WithAlert(score.TimestampMs, id);
            }
            requests.Add(new DecidedRequest(request, score.Output, $"{Champion.Name}@{Champion.Version}", states.GetValueOrDefault(user.UserId, UserAlertState.None), raised));
        }
        return requests;
    }

    public void Dispose() => Champion.Dispose();
}
