using System.Globalization;
using Akka.Configuration;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Online;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Engine.Online;

/// <summary>
/// The canary-recall gate's attack sequences (<see cref="PromotionGates.CanaryRecall"/>) and where they came from: the
/// training data's labelled attack users first; when they are fewer than <see cref="CanarySettings.MinUsers"/> (a
/// training period before the generator's first episodes, or unlabelled data such as a Kafka topic), the set is
/// completed with the built-in generator's scenario episodes (<see cref="GeneratedCanaries"/>: deterministic, the run's
/// generator settings, the online-learning seed). Generated canaries are used only when the model can read them: when
/// at most <see cref="CanarySettings.MaxUnknownShare"/> of their events have a type the model does not know (its
/// sequence part's vocabulary; for a model without one, the types of its training data). A run on other data (other
/// event types) gets none: nothing is invented, and the gate fails as without canaries. Feedback positives are not
/// canaries: the set is built as the run starts, and analysts' labels arrive during it (they purge samples instead).
/// Each canary carries its scenario (<see cref="Scenarios"/>), which the canary gate judges separately
/// (<see cref="ScenarioCanaryRule"/>): a generated one the generator's, a training one its ground truth's when the run
/// has it (the generator, a truth file), else <see cref="LabelledGroup"/>.
/// </summary>
/// <param name="Users">The canary users.</param>
/// <param name="FromTraining">Labelled attack users of the training data.</param>
/// <param name="FromFeedback">Users labelled anomalous by feedback (0: not used as canaries, see the summary).</param>
/// <param name="FromGenerator">Generated scenario episodes.</param>
/// <param name="Summary">One line (after "online learning: "): the counts, and why none was generated when so.</param>
/// <param name="Scenarios">Each canary's scenario, in the order of <paramref name="Users"/>.</param>
public sealed record CanarySet(BehaviorDataset Users, int FromTraining, int FromFeedback, int FromGenerator, string Summary, IReadOnlyList<string> Scenarios)
{
    /// <summary>The group of the training data's attack users whose scenario is unknown (no ground truth beside the data).</summary>
    public const string LabelledGroup = "labelled";

    /// <param name="trainedOn">The data the champion was trained on (or traffic like it).</param>
    /// <param name="normalIds">Its users without an event labelled anomalous (the others are the training canaries).</param>
    /// <param name="champion">The model the canaries must be readable by.</param>
    /// <param name="config">The run's configuration (the generator's settings).</param>
    /// <param name="settings">The minimum and the unknown-type bound.</param>
    /// <param name="seed">The generator's seed (<c>streamdetect.online-learning.seed</c>).</param>
    /// <param name="sessions">The run's session rule.</param>
    /// <param name="truth">userId -> scenario for <paramref name="trainedOn"/>'s users when known; null (or a user it does
    /// not name as an attacker): <see cref="LabelledGroup"/>.</param>
    public static CanarySet Build(BehaviorDataset trainedOn, IReadOnlySet<string> normalIds, IAnomalyDetector champion, Config config,
        CanarySettings settings, int seed, SessionSettings sessions, IReadOnlyDictionary<string, string>? truth = null)
    {
        var training = trainedOn.Users.Where(u => !normalIds.Contains(u.UserId)).ToArray();
        var trainingScenarios = training.Select(u => truth?.GetValueOrDefault(u.UserId) is { } s && s != Models.Evaluation.TruthTable.Normal ? s : LabelledGroup).ToArray();
        string trainingPart = $"{training.Length} from the training data's labelled attack users";
        const string feedbackPart = "0 from feedback positives (labels arrive during the run: they purge samples, they are not canaries)";
        string minimum = $"streamdetect.online-learning.min-canary-users = {settings.MinUsers}";
        if (training.Length >= settings.MinUsers)
            return Made(training, [], [], $"0 from the generator ({minimum}{(settings.MinUsers == 0 ? ": completing is off" : " reached")})");

        var (generated, generatedScenarios) = GeneratedCanaries.Generate(settings.MinUsers - training.Length, trainedOn, config, seed, sessions);
        if (generated.Users.Count == 0)
            return Made(training, [], [], $"0 from the generator (none of its {settings.MinUsers - training.Length} attackers had an episode in {GeneratedCanaries.MaxDays} days or fewer; {minimum})");
        var known = KnownTypes(champion, trainedOn);
        long events = 0, unknown = 0;
        var unknownTypes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var user in generated.Users)
            for (int i = 0; i < user.Count; i++)
            {
                if (user.IsEndMarker(i)) continue;
                events++;
                string type = user.Entries[i].Type;
                if (known(type)) continue;
                unknown++;
                unknownTypes[type] = unknownTypes.GetValueOrDefault(type) + 1;
            }
        double share = events == 0 ? 1 : unknown / (double)events;
        string shareText = $"{share.ToString("P2", CultureInfo.InvariantCulture)} of their {events} events of types the model does not know";
        if (share > settings.MaxUnknownShare)
        {
            string examples = string.Join(", ", unknownTypes.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(5).Select(p => p.Key));
            return Made(training, [], [], $"0 from the generator: the model cannot read its traffic ({shareText}, e.g. {examples}; " +
                                      $"streamdetect.online-learning.canary-max-unknown-share = {settings.MaxUnknownShare.ToString(CultureInfo.InvariantCulture)}), so none is invented ({minimum})");
        }
        return Made(training, generated.Users, generatedScenarios,
            $"{generated.Users.Count} from the generator's scenario episodes (seed {seed}, {shareText}; {minimum})");

        CanarySet Made(IReadOnlyList<UserSequence> fromTraining, IReadOnlyList<UserSequence> fromGenerator, IReadOnlyList<string> generatorScenarios, string generatorPart)
        {
            var users = new BehaviorDataset([.. fromTraining, .. fromGenerator], trainedOn.WindowCapacity);
            string[] scenarios = [.. trainingScenarios, .. generatorScenarios];
            string line = $"canaries: {users.Users.Count} users: {trainingPart}, {feedbackPart}, {generatorPart}";
            if (users.Users.Count == 0) line += "; without canaries the canary-recall gate fails every candidate (nothing shows recall is kept)";
            else line += $"; by scenario: {string.Join(", ", scenarios.GroupBy(s => s).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"))}";
            return new CanarySet(users, fromTraining.Count, 0, fromGenerator.Count, line, scenarios);
        }
    }

    /// <summary>Whether the model knows a type: its sequence part's vocabulary, or else the types of its training data.</summary>
    private static Func<string, bool> KnownTypes(IAnomalyDetector champion, BehaviorDataset trainedOn)
    {
        if (NewTypePopulation.VocabularyOf(champion) is { } vocabulary)
            return type => vocabulary.TokenOf(type) != EventVocabulary.UnknownToken;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var user in trainedOn.Users)
            for (int i = 0; i < user.Count; i++)
                if (!user.IsEndMarker(i)) seen.Add(user.Entries[i].Type);
        return seen.Contains;
    }
}
