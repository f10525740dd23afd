using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Events;
using StreamDetect.Models.Online;
using StreamDetect.Models.Replay;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// Vocabulary growth: a type that appears after training (a release's <c>assistant</c>) is &lt;unk&gt; to the champion;
/// a fine-tuning round assigns it a reserved slot once enough users show it, and the candidate learns it.
/// </summary>
[Collection(OnlineModelsCollection.Name)]
public sealed class VocabularyGrowthTests(OnlineModels models, ITestOutputHelper output)
{
    private const string NewType = "assistant";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly OnlineLearningOptions Options = new()
    {
        LearningRate = 0.005, StepsPerVersion = 60, BatchSize = 32, MaxDistance = 0.5, DistancePenalty = 0.01,
        AnchorShare = 0.3, NewTypeMinCount = 20, NewTypeMinUsers = 10,
    };

    private static BehaviorDataset Released(int users, int seed, string prefix, string? newType = NewType) =>
        DatasetBuilder.Build(ReleasedShoppers.Generate(users, days: 2, startDay: 3, seed: seed, prefix: prefix, newType: newType), sessions: SessionSettings.Default);

    [Fact]
    public void A_new_type_shown_by_enough_users_gets_a_slot_its_sequences_score_far_lower_and_a_saved_candidate_keeps_it()
    {
        var champion = models.Champion;
        var vocabulary = champion.Tokenizer.Vocabulary;
        Assert.Equal(EventVocabulary.UnknownToken, vocabulary.TokenOf(NewType));
        Assert.Equal(8, vocabulary.FreeSlots);
        var probe = Released(40, seed: 6, prefix: "p");
        Assert.Contains(probe.Users, u => u.Entries.Any(e => e.Type == NewType));
        var (before, beforeScores) = UserMaxima(champion, probe);

        var result = new SequenceFineTuner(Options, OnlineModels.Training).FineTune(champion, null, OnlineModels.SamplesOf(Released(80, seed: 5, prefix: "r")), models.Anchors, Ct);
        using var candidate = result.Candidate;
        output.WriteLine(result.DetailJson());
        Assert.Equal([NewType], result.Vocabulary.Assigned);
        Assert.Empty(result.Vocabulary.SlotsFull);
        Assert.Equal(7, result.Vocabulary.FreeSlots);
        var grown = SequenceMember.Trainable(candidate).Tokenizer.Vocabulary;
        Assert.Equal(vocabulary.FirstSlotToken, grown.TokenOf(NewType));
        Assert.Equal(vocabulary.Count, grown.Count);
        Assert.Equal(EventVocabulary.UnknownToken, vocabulary.TokenOf(NewType)); // the champion's is untouched

        var (after, afterScores) = UserMaxima(candidate, probe);
        double meanBefore = before.Average(), meanAfter = after.Average();
        // Users alerted at a 1% alert rate, each model at its own calibrated threshold.
        double thresholdBefore = champion.Threshold.For(0.01), thresholdAfter = candidate.Threshold.For(0.01);
        int aboveBefore = beforeScores.Count(s => s >= thresholdBefore), aboveAfter = afterScores.Count(s => s >= thresholdAfter);
        output.WriteLine($"probe users' highest surprise (nats): champion mean {meanBefore:F2}, candidate {meanAfter:F2}; " +
            $"above the 1% threshold: {aboveBefore} / {aboveAfter} of {probe.Users.Count}");
        Assert.True(meanAfter < 0.5 * meanBefore, $"mean highest surprise {meanBefore:F2} -> {meanAfter:F2}");
        Assert.True(aboveAfter < aboveBefore, $"users above the threshold {aboveBefore} -> {aboveAfter}");

        string path = Path.Combine(Path.GetTempPath(), $"grown-{Guid.NewGuid():N}.sdm");
        try
        {
            candidate.Save(path);
            using var loaded = DetectorFile.Load(path, "cpu");
            Assert.Equal(candidate.Version, loaded.Version);
            var reread = SequenceMember.Trainable(loaded).Tokenizer.Vocabulary;
            Assert.Equal(grown.TokenOf(NewType), reread.TokenOf(NewType));
            Assert.Equal(grown.AssignedTypes, reread.AssignedTypes);
            Assert.Equal(7, reread.FreeSlots);
            Assert.Equal(after, UserMaxima(loaded, probe).Raw);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_type_from_fewer_users_than_the_minimum_stays_unknown()
    {
        // Two accounts repeat a type of their own many times: often enough, from too few users.
        var planted = new List<UserEvent>();
        for (int u = 0; u < 2; u++)
            for (int e = 0; e < 80; e++)
                planted.Add(new UserEvent($"x-{u}", SyntheticTrafficT0 + e * 60_000L, e % 2 == 0 ? "login" : "planted") { Label = 0 });
        var samples = OnlineModels.SamplesOf(Released(80, seed: 5, prefix: "r", newType: null))
            .Concat(OnlineModels.SamplesOf(DatasetBuilder.Build(planted, sessions: SessionSettings.Default))).ToList();

        var result = new SequenceFineTuner(Options with { StepsPerVersion = 3 }, OnlineModels.Training).FineTune(models.Champion, null, samples, models.Anchors, Ct);
        using var candidate = result.Candidate;
        Assert.Empty(result.Vocabulary.Assigned);
        Assert.Equal(["planted"], result.Vocabulary.BelowMinimum);
        Assert.Equal(8, result.Vocabulary.FreeSlots);
        Assert.Equal(EventVocabulary.UnknownToken, SequenceMember.Trainable(candidate).Tokenizer.Vocabulary.TokenOf("planted"));

        // The same type from enough users is assigned.
        var plan = VocabularyGrowth.Plan(models.Champion.Tokenizer.Vocabulary, samples, minCount: 20, minUsers: 2);
        Assert.Equal(["planted"], plan.Assigned);
    }

    [Fact]
    public void With_every_slot_taken_a_new_type_stays_unknown_and_is_counted()
    {
        var vocabulary = EventVocabulary.Learn(["login", "view", "view"], reservedSlots: 1);
        var samples = new List<UserEvent>();
        for (int u = 0; u < 12; u++)
            foreach (var (type, k) in new[] { ("login", 0), ("beta", 1), ("alpha", 2), ("alpha", 3) })
                samples.Add(new UserEvent($"u-{u}", SyntheticTrafficT0 + u * 1000L + k, type) { Label = 0 });
        var data = OnlineModels.SamplesOf(DatasetBuilder.Build(samples));

        var plan = VocabularyGrowth.Plan(vocabulary, data, minCount: 10, minUsers: 10);
        Assert.Equal(["alpha"], plan.Assigned); // the more frequent first
        Assert.Equal(["beta"], plan.SlotsFull);
        Assert.Equal(0, plan.FreeSlots);

        var full = vocabulary.WithAssigned(plan.Assigned);
        Assert.Equal(vocabulary.Count, full.Count);
        Assert.Equal(vocabulary.FirstSlotToken, full.TokenOf("alpha"));
        Assert.Equal(EventVocabulary.UnknownToken, full.TokenOf("beta"));
        var next = VocabularyGrowth.Plan(full, data, minCount: 10, minUsers: 10);
        Assert.Empty(next.Assigned);
        Assert.Equal(["beta"], next.SlotsFull);
        Assert.Throws<ArgumentException>(() => full.WithAssigned(["beta"]));

        // Ties in count go by name; the written slots read back.
        var tie = VocabularyGrowth.Plan(EventVocabulary.Learn(["login"], reservedSlots: 2), data, minCount: 10, minUsers: 10);
        Assert.Equal(["alpha", "beta"], tie.Assigned);
        var tokenizer = new EventTokenizer(full, AmountBuckets.Learn([1f, 2f, 3f], 2));
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) tokenizer.WriteTo(writer);
        stream.Position = 0;
        var read = EventTokenizer.ReadFrom(new BinaryReader(stream));
        Assert.Equal(full.Count, read.Vocabulary.Count);
        Assert.Equal(1, read.Vocabulary.ReservedSlots);
        Assert.Equal(full.TokenOf("alpha"), read.Vocabulary.TokenOf("alpha"));
    }

    private static readonly long SyntheticTrafficT0 = Support.SyntheticTraffic.T0;

    /// <summary>Each user's highest raw score (the largest surprise in nats within the horizon) and highest calibrated
    /// score over a streaming replay.</summary>
    private static (double[] Raw, double[] Scores) UserMaxima(IAnomalyDetector detector, BehaviorDataset data)
    {
        var raw = new double[data.Users.Count];
        var scores = new double[data.Users.Count];
        Array.Fill(raw, double.NegativeInfinity);
        Array.Fill(scores, double.NegativeInfinity);
        StreamingReplay.Run(data, detector, new ReplayOptions(256), s =>
        {
            for (int i = 0; i < s.Output.Count; i++)
            {
                raw[s.UserIndex] = Math.Max(raw[s.UserIndex], s.Output.RawScoreAt(i));
                scores[s.UserIndex] = Math.Max(scores[s.UserIndex], s.Output.ScoreAt(i));
            }
        }, Ct);
        return (raw, scores);
    }
}
