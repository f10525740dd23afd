using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Replay;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Online;

/// <summary>
/// The guard's new-type rule (issue 11): which event types the base version does not know (a release's new types:
/// &lt;unk&gt; to it) are shown by a population, and how a sample scores without them.
/// <para>
/// A type is <em>populous</em> once, within one period (the trainer's cadence: <see cref="Observe"/> the period's
/// decided events, then <see cref="ClosePeriod"/>), at least <see cref="OnlineLearningOptions.NewTypeRuleMinUsers"/>
/// distinct users and <see cref="OnlineLearningOptions.NewTypeRuleMinUserShare"/> of the period's users showed it, from
/// at least <see cref="OnlineLearningOptions.NewTypeRuleMinDevices"/> distinct devices and
/// <see cref="OnlineLearningOptions.NewTypeRuleMinIps"/> distinct IPs: a change of the population, not one actor (one
/// user, or many accounts behind few devices or addresses). It stays populous. Only then may a sample whose window holds
/// it be judged without it (<see cref="Without"/>, <see cref="LastScores"/>); a window that also holds a new type that is
/// not populous is not judged that way. Types the base knows are never dropped: a sample of known types (slow poisoning
/// moves through known types) gets no judgement from this rule. Not thread-safe.
/// </para>
/// </summary>
public sealed class NewTypePopulation
{
    /// <summary>New types tracked in one period at most: a flood of made-up types cannot grow the tracker without bound.</summary>
    public const int MaxTrackedTypes = 1024;

    private readonly EventVocabulary _baseVocabulary;
    private readonly OnlineLearningOptions _options;
    private readonly HashSet<string> _populous = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Seen> _period = new(StringComparer.Ordinal);
    private readonly HashSet<string> _periodUsers = new(StringComparer.Ordinal);

    /// <param name="baseVocabulary">The base version's vocabulary (<see cref="VocabularyOf"/>).</param>
    public NewTypePopulation(EventVocabulary baseVocabulary, OnlineLearningOptions options)
    {
        options.Validate();
        _baseVocabulary = baseVocabulary;
        _options = options;
    }

    /// <summary>The vocabulary of a detector's sequence part (itself, or an ensemble's sequence member); null when it has none.</summary>
    public static EventVocabulary? VocabularyOf(IAnomalyDetector detector)
    {
        try
        {
            return SequenceMember.Trainable(detector).Tokenizer.Vocabulary;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The populous new types so far, by name.</summary>
    public IReadOnlyList<string> Populous => _populous.Order(StringComparer.Ordinal).ToList();

    /// <summary>Whether the base version does not know <paramref name="type"/> (it reads it as &lt;unk&gt;).</summary>
    public bool IsNew(string type) =>
        !EventVocabulary.IsSpecial(type) && type != Events.EventTypes.SessionEnd && _baseVocabulary.TokenOf(type) == EventVocabulary.UnknownToken;

    public bool IsPopulous(string type) => _populous.Contains(type);

    /// <summary>One decided event of the current period: its type, user, device and IP.</summary>
    public void Observe(string type, string userId, string? device, string? ip)
    {
        _periodUsers.Add(userId);
        if (!IsNew(type) || _populous.Contains(type)) return;
        if (!_period.TryGetValue(type, out var seen))
        {
            if (_period.Count >= MaxTrackedTypes) return;
            _period[type] = seen = new Seen();
        }
        seen.Users.Add(userId);
        if (device is not null) seen.Devices.Add(device);
        if (ip is not null) seen.Ips.Add(ip);
    }

    /// <summary>Ends the period: the new types its population showed become populous; returns them, by name.</summary>
    public IReadOnlyList<string> ClosePeriod()
    {
        double users = Math.Max(_options.NewTypeRuleMinUsers, Math.Ceiling(_options.NewTypeRuleMinUserShare * _periodUsers.Count));
        var now = _period
            .Where(p => p.Value.Users.Count >= users && p.Value.Devices.Count >= _options.NewTypeRuleMinDevices && p.Value.Ips.Count >= _options.NewTypeRuleMinIps)
            .Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        _populous.UnionWith(now);
        _period.Clear();
        _periodUsers.Clear();
        return now;
    }

    /// <summary>
    /// The window without its new types' events when it holds at least one new type and every one it holds is populous;
    /// null otherwise (no new type: the rule has nothing to judge; a new type that is not populous: the sample is judged
    /// as it is), or when nothing is left.
    /// </summary>
    public UserSequence? Without(UserSequence events)
    {
        bool any = false;
        foreach (var entry in events.Entries)
        {
            if (!IsNew(entry.Type)) continue;
            if (!_populous.Contains(entry.Type)) return null;
            any = true;
        }
        return any ? events.Without(IsNew) : null;
    }

    /// <summary>The calibrated score of each sequence's last event (the highest of its last millisecond; NaN when not scored) under <paramref name="detector"/> (a streaming replay of
    /// the whole sequence, its older events rebuilding the state), as the live path scores a window.</summary>
    public static double[] LastScores(IAnomalyDetector detector, IReadOnlyList<UserSequence> sequences, int windowCapacity, int scoringBatchSize)
    {
        var scores = new double[sequences.Count];
        // NaN (never below a ceiling) for a sequence the replay did not score.
        Array.Fill(scores, double.NaN);
        if (sequences.Count == 0) return scores;
        var lastMs = sequences.Select(s => s.LastEventMs).ToArray();
        StreamingReplay.Run(new BehaviorDataset(sequences.ToArray(), windowCapacity), detector, new ReplayOptions(scoringBatchSize), score =>
        {
            if (score.TimestampMs < lastMs[score.UserIndex]) return;
            double value = score.Output.ScoreAt(score.Output.Count - 1);
            // Events of the last millisecond (an end marker too): the highest counts.
            ref double kept = ref scores[score.UserIndex];
            kept = double.IsNaN(kept) ? value : Math.Max(kept, value);
        });
        return scores;
    }

    private sealed class Seen
    {
        public HashSet<string> Users { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Devices { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Ips { get; } = new(StringComparer.Ordinal);
    }
}
