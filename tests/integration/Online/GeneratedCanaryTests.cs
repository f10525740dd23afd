using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Online;
using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Registry;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Events;
using StreamDetect.Models.Online;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>
/// The canary set when the training data holds too few attack users (a training period before the generator's first
/// episodes, or unlabelled data): completed with the built-in generator's scenario episodes, so that the canary-recall
/// gate is measured and a round can pass it; the same each time it is built; none invented for a model that cannot
/// read the generator's event types.
/// </summary>
public sealed class GeneratedCanaryTests(OnlineTraffic traffic) : IClassFixture<OnlineTraffic>
{
    private static readonly CanarySettings Settings = new();

    /// <summary>The champion's training days without their attack users: what `run` with train-days = 1 has.</summary>
    private BehaviorDataset NoAttackers => traffic.TrainingData.WithoutLabelledUsers();

    private static HashSet<string> Ids(BehaviorDataset data) => data.Users.Select(u => u.UserId).ToHashSet(StringComparer.Ordinal);

    private CanarySet Build(BehaviorDataset trainedOn, CanarySettings? settings = null, int seed = 1, Models.Detection.IAnomalyDetector? champion = null,
        IReadOnlyDictionary<string, string>? truth = null) =>
        CanarySet.Build(trainedOn, Ids(trainedOn.WithoutLabelledUsers()), champion ?? traffic.Champion, EngineConfig.Reference, settings ?? Settings, seed, OnlineTraffic.Sessions, truth);

    [Fact]
    public void Training_data_without_attack_users_gets_generated_canaries_and_a_round_is_measured_on_them_and_can_pass()
    {
        Assert.Equal(0, NoAttackers.LabelledUserCount);
        var set = Build(NoAttackers);
        Assert.Equal((0, 0), (set.FromTraining, set.FromFeedback));
        Assert.True(set.FromGenerator >= Settings.MinUsers, set.Summary);
        Assert.Equal(set.FromGenerator, set.Users.Users.Count);
        Assert.All(set.Users.Users, u => Assert.StartsWith(GeneratedCanaries.UserPrefix, u.UserId));
        Assert.Equal(set.Users.Users.Count, set.Users.LabelledUserCount);
        Assert.True(set.Summary.Contains($"{set.FromGenerator} from the generator's scenario episodes (seed 1, ", StringComparison.Ordinal), set.Summary);
        // Each canary carries its scenario: min-canary-users 100 over the generator's 10 scenarios, 10 each (enough for
        // the per-scenario rule to fail a scenario: 6 of 10 lost at best).
        Assert.Equal(set.Users.Users.Count, set.Scenarios.Count);
        var perScenario = set.Scenarios.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(GeneratorSettings.Default.AnomalyScenarios.Order(StringComparer.Ordinal), perScenario.Keys.Order(StringComparer.Ordinal));
        Assert.All(perScenario, p => Assert.Equal(10, p.Value));
        Assert.EndsWith("; by scenario: " + string.Join(", ", perScenario.Keys.Order(StringComparer.Ordinal).Select(k => k + " 10")), set.Summary);

        // A normal round (guards on, traffic without alerts) against a real registry: its canary gate is a number, and it
        // passes. Recall at the score that alerts 10% of the 60 anchor users: at 0.5% the small champion catches no canary.
        using var store = new RegistryStore("sqlite");
        var registry = ModelRegistry.Open(store.Settings);
        StartupRegistration.Register(store.Settings, traffic.Champion, OriginDetail.None, TextWriter.Null);
        var options = OnlineTraffic.Options with { AlertBudget = 0.1 };
        var settings = OnlineTraffic.Settings with { MaxRounds = 1 };
        var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
        var log = new StringWriter();
        using var trainer = traffic.Trainer(schedule, options, settings, registry, log, canaries: set.Users, canaryScenarios: set.Scenarios);
        TrainerDrive.Run(trainer, schedule, traffic.Decided(traffic.Live, (_, _, _) => false),
            (plan, request) => (request, plan.Shadow is { } s ? new ShadowVerdicts($"{s.Name}@{s.Version}", request.Output, []) : null));

        var round = Assert.Single(trainer.Rounds);
        Assert.True(round.Candidate is not null, log.ToString());
        var canary = Assert.Single(registry.Require(round.Candidate!).Gates, g => g.Gate == PromotionGates.CanaryRecall);
        Assert.True(double.IsFinite(canary.Value) && double.IsFinite(canary.Bound), $"{canary}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{set.Summary}\ncanary gate: {canary}");
        // The bound is the champion's recall less the canaries the candidate may lose (at least the drop's): above 0 only
        // when the champion caught canaries.
        Assert.True(canary.Bound > 0, $"the champion catches too few canaries: {canary}");
        Assert.True(canary.Passed, $"{canary}\n{log}");
        Assert.Contains(trainer.Transitions, t => t.Version == round.Candidate && t.Status == "shadow");
        // The gate judged each scenario, and the round's transition says so (a rejection's registry reason carries the same note).
        Assert.Contains(trainer.Transitions, t => t.Version == round.Candidate && t.Reason.Contains("10 scenarios ok", StringComparison.Ordinal));
    }

    [Fact]
    public void The_generated_canaries_are_the_same_in_two_builds_and_follow_the_seed()
    {
        static string[] Sequences(CanarySet set) =>
            set.Users.Users.Select(u => u.UserId + ": " + string.Join(" ", u.Entries.Select(e => $"{e.Type}@{e.TimestampMs}/{e.Amount}/{e.ItemHash}/{e.CategoryHash}"))).ToArray();

        var first = Build(NoAttackers);
        var second = Build(NoAttackers);
        Assert.Equal(Sequences(first), Sequences(second));
        Assert.Equal(first.Summary, second.Summary);
        Assert.NotEqual(Sequences(first), Sequences(Build(NoAttackers, seed: 2)));
    }

    [Fact]
    public void The_training_data_attack_users_are_kept_and_only_the_shortfall_is_generated()
    {
        int attackers = traffic.TrainingData.LabelledUserCount;
        Assert.True(attackers >= 1, "the fixture's training days hold no attack user");

        var enough = Build(traffic.TrainingData, Settings with { MinUsers = attackers });
        Assert.Equal((attackers, 0, attackers), (enough.FromTraining, enough.FromGenerator, enough.Users.Users.Count));
        // Without ground truth the training attackers are one group; with it, each has its scenario.
        Assert.All(enough.Scenarios, s => Assert.Equal(CanarySet.LabelledGroup, s));
        var known = Build(traffic.TrainingData, Settings with { MinUsers = attackers }, truth: traffic.TrainingTruth);
        Assert.Equal(known.Users.Users.Select(u => traffic.TrainingTruth[u.UserId]), known.Scenarios);
        Assert.DoesNotContain(CanarySet.LabelledGroup, known.Scenarios);
        Assert.Contains("0 from the generator (streamdetect.online-learning.min-canary-users = ", enough.Summary);

        var topped = Build(traffic.TrainingData, Settings with { MinUsers = attackers + 3 });
        Assert.Equal((attackers, 3), (topped.FromTraining, topped.FromGenerator));
        Assert.Equal(attackers, topped.Users.Users.Count(u => !u.UserId.StartsWith(GeneratedCanaries.UserPrefix, StringComparison.Ordinal)));
        Assert.StartsWith($"canaries: {attackers + 3} users: {attackers} from the training data's labelled attack users, 0 from feedback positives", topped.Summary);

        var off = Build(NoAttackers, Settings with { MinUsers = 0 });
        Assert.Empty(off.Users.Users);
        Assert.Contains("completing is off", off.Summary);
    }

    [Fact]
    public void A_model_of_other_event_types_gets_no_generated_canary_and_the_start_up_line_says_so()
    {
        // Traffic of the same shape whose types the generator never emits (another kind of data): a champion trained on it
        // maps every generated event to <unk>.
        var other = DatasetBuilder.Build(new TrafficGenerator(GeneratorSettings.Default with { Users = 60, Days = 1, Seed = 4, AnomalyRate = 0 }).Events()
            .Select(e => new UserEvent(e.UserId, e.TimestampMs, "op_" + e.Type) 
            {
                Item = e.Item, Category = e.Category, Amount = e.Amount, Query = e.Query, Device = e.Device, Ip = e.Ip, Session = e.Session, Label = e.Label,
            }),
            OnlineTraffic.Window, OnlineTraffic.Sessions);
        using var champion = DetectorTrainer.Train("lstm", other, OnlineTraffic.Training, cancellation: TestContext.Current.CancellationToken);

        var set = Build(other, champion: champion);
        Assert.Empty(set.Users.Users);
        Assert.Equal((0, 0, 0), (set.FromTraining, set.FromFeedback, set.FromGenerator));
        Assert.Contains("0 from the generator: the model cannot read its traffic (100.00 % of their ", set.Summary);
        Assert.Contains("so none is invented", set.Summary);
        // A model without a sequence vocabulary (a feature detector) is judged by the types of its training data.
        using (var features = DetectorTrainer.Train("zscore", other, OnlineTraffic.Training, cancellation: TestContext.Current.CancellationToken))
        {
            var byTraining = Build(other, champion: features);
            Assert.Empty(byTraining.Users.Users);
            Assert.Contains("0 from the generator: the model cannot read its traffic (100.00 % of their ", byTraining.Summary);
            Assert.Equal(Settings.MinUsers, Build(NoAttackers, champion: features).FromGenerator);
        }

        // The engine's start-up: the same counts, as a warning, and the trainer still made (the gate fails as before).
        using var store = new RegistryStore("sqlite");
        var config = EngineConfig.Load([store.Overlay]);
        var log = new StringWriter();
        using var trainer = OnlineLearningSetup.Create(OnlineLearningSettings.Read(config), config, champion, other, store.Settings,
            new ScriptedSchedule(6 * 3_600_000L), _ => true, log);
        Assert.NotNull(trainer);
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("online learning: warning: " + set.Summary, lines.Select(l => l.TrimEnd('\r')));
        Assert.Contains(lines, l => l.Contains(", 0 canary users;"));
    }

    [Fact]
    public void The_start_up_line_counts_the_canaries_by_where_they_came_from()
    {
        using var store = new RegistryStore("sqlite");
        var config = EngineConfig.Load([store.Overlay]);
        var log = new StringWriter();
        using var trainer = OnlineLearningSetup.Create(OnlineLearningSettings.Read(config), config, traffic.Champion, NoAttackers, store.Settings,
            new ScriptedSchedule(6 * 3_600_000L), _ => true, log);
        Assert.NotNull(trainer);
        string said = log.ToString();
        Assert.Matches(@"online learning: canaries: 100 users: 0 from the training data's labelled attack users, 0 from feedback positives \([^)]*\), " +
                       @"100 from the generator's scenario episodes \(seed 1, \d\.\d\d % of their \d+ events of types the model does not know; streamdetect\.online-learning\.min-canary-users = 100\)", said);
        Assert.Contains(", 100 canary users;", said);
        Assert.DoesNotContain("warning", said);
    }
}
