using StreamDetect.Models.Dataset;
using StreamDetect.Models.Events;
using StreamDetect.Models.Online;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// The guard's new-type rule: a release's new type shown by a population lets its users' samples be learned when their
/// only surprise is that type; one actor showing a type, and samples of known types (slow poisoning), gain nothing.
/// </summary>
[Collection(OnlineModelsCollection.Name)]
public sealed class NewTypeRuleTests(OnlineModels models, ITestOutputHelper output)
{
    private const string NewType = "assistant";

    private static readonly OnlineLearningOptions Options = new()
    {
        ScoreQuantile = 0.9, NewTypeRuleMinUsers = 20, NewTypeRuleMinUserShare = 0.01, NewTypeRuleMinDevices = 20, NewTypeRuleMinIps = 20,
    };

    private static BehaviorDataset Released(int users, int seed, string prefix, string? newType = NewType) =>
        DatasetBuilder.Build(ReleasedShoppers.Generate(users, days: 2, startDay: 3, seed: seed, prefix: prefix, newType: newType), sessions: SessionSettings.Default);

    private NewTypePopulation Population(OnlineLearningOptions? options = null) =>
        new(NewTypePopulation.VocabularyOf(models.Champion)!, options ?? Options);

    /// <summary>Every event of <paramref name="data"/> shown to the population; user u on device d-u and IP ip-u unless given.</summary>
    private static void Observe(NewTypePopulation population, BehaviorDataset data, Func<int, string>? device = null, Func<int, string>? ip = null)
    {
        for (int u = 0; u < data.Users.Count; u++)
            foreach (var entry in data.Users[u].Entries)
                population.Observe(entry.Type, data.Users[u].UserId, device?.Invoke(u) ?? $"d-{u}", ip?.Invoke(u) ?? $"ip-{u}");
    }

    [Fact]
    public void A_new_type_shown_by_a_population_of_users_devices_and_ips_becomes_populous_and_its_windows_are_judged_without_it()
    {
        var population = Population();
        Assert.True(population.IsNew(NewType));
        Assert.False(population.IsNew("cart"));
        var released = Released(40, seed: 5, prefix: "r");
        Observe(population, released);
        Assert.Equal([NewType], population.ClosePeriod());
        Assert.True(population.IsPopulous(NewType));

        var holder = released.Users.First(u => u.Entries.Any(e => e.Type == NewType));
        var without = population.Without(holder);
        Assert.NotNull(without);
        Assert.DoesNotContain(without.Entries, e => e.Type == NewType);
        Assert.Equal(holder.Entries.Count(e => e.Type != NewType && e.Type != EventTypes.SessionEnd),
            without.Entries.Count(e => e.Type != EventTypes.SessionEnd));
        // A window of known types only gets no judgement from the rule: it is judged as it is.
        Assert.Null(population.Without(Released(1, seed: 7, prefix: "k", newType: null).Users[0]));
    }

    [Fact]
    public void One_actor_showing_a_new_type_from_one_user_or_many_accounts_behind_few_devices_and_ips_is_not_a_population()
    {
        var released = Released(40, seed: 5, prefix: "r");
        // One user, however often it shows the type.
        var one = Population();
        var actor = released.Users.First(u => u.Entries.Any(e => e.Type == NewType));
        for (int i = 0; i < 500; i++) one.Observe(NewType, actor.UserId, "d-0", "ip-0");
        Assert.Empty(one.ClosePeriod());
        Assert.Null(one.Without(actor));

        // 40 accounts behind 3 devices and one address (a botnet of accounts, not a population).
        var accounts = Population();
        Observe(accounts, released, device: u => $"d-{u % 3}", ip: _ => "ip-0");
        Assert.Empty(accounts.ClosePeriod());

        // 40 users among 10,000 decided in the period: below the 1% share.
        var rare = Population();
        Observe(rare, released);
        for (int u = 0; u < 10_000; u++) rare.Observe("view", $"other-{u}", $"od-{u}", $"oip-{u}");
        Assert.Empty(rare.ClosePeriod());

        // A window that also holds a new type nobody else shows is judged as it is.
        var population = Population();
        Observe(population, released);
        population.ClosePeriod();
        var planted = DatasetBuilder.Build(
            actor.Entries.Where(e => e.Type != EventTypes.SessionEnd)
                .Select((e, i) => new UserEvent(actor.UserId, e.TimestampMs, i == 3 ? "planted_type" : e.Type))
                .ToList(), sessions: SessionSettings.Default).Users[0];
        Assert.Null(population.Without(planted));
    }

    [Fact]
    public void Guard_must_hold_a_sample_whose_only_surprise_is_a_populous_new_type_and_still_refuse_known_type_surprises()
    {
        var guard = new SampleGuard(Options);
        var user = Released(1, seed: 5, prefix: "r").Users[0];
        OnlineSample Sample(string id, double score) =>
            new(user, $"d-{id}", $"ip-{id}", user.LastEventMs, ChampionScore: score, BaseScore: score);
        var explained = new WithoutNewTypes(ChampionScore: 0.3, BaseScore: 0.4, AlertsExplained: true);

        // The release's users: alerted, in cooldown or above the quantile only through the new type.
        Assert.Equal(GuardVerdict.HeldBackNewTypes, guard.Offer(Sample("a", 5) with { Alerted = true, WithoutNewTypes = explained }));
        Assert.Equal(GuardVerdict.HeldBackNewTypes, guard.Offer(Sample("b", 0.5) with { InCooldown = true, WithoutNewTypes = explained }));
        Assert.Equal(GuardVerdict.HeldBackNewTypes, guard.Offer(Sample("c", 4) with { WithoutNewTypes = explained }));
        // Judged without the new type it is still above the quantile, or its alert was not the new type's.
        Assert.Equal(GuardVerdict.AboveChampionQuantile, guard.Offer(Sample("d", 4) with { WithoutNewTypes = explained with { ChampionScore = 1.5 } }));
        Assert.Equal(GuardVerdict.AboveChampionQuantile, guard.Offer(Sample("e", 4) with { WithoutNewTypes = explained with { BaseScore = double.NaN } }));
        Assert.Equal(GuardVerdict.Alerted, guard.Offer(Sample("f", 5) with { Alerted = true, WithoutNewTypes = explained with { AlertsExplained = false } }));
        // Positive feedback is never excused.
        Assert.Equal(GuardVerdict.FeedbackPositive, guard.Offer(Sample("g", 0.3) with { FeedbackPositive = true, WithoutNewTypes = explained }));
        // A poisoning-like sample of known types (no judgement without new types): refused as before.
        Assert.Equal(GuardVerdict.Alerted, guard.Offer(Sample("h", 5) with { Alerted = true }));
        Assert.Equal(GuardVerdict.InCooldown, guard.Offer(Sample("i", 0.3) with { InCooldown = true }));
        Assert.Equal(GuardVerdict.AboveChampionQuantile, guard.Offer(Sample("j", 2.5)));
        Assert.Equal(3, guard.CountOf(GuardVerdict.HeldBackNewTypes));

        // The caps still apply to what the rule lets through.
        guard.Advance(user.LastEventMs + (long)Options.HoldBack.TotalMilliseconds);
        Assert.Equal(3, guard.Buffer.TrafficCount);
        var capped = new SampleGuard(Options with { MaxPerDevice = 1 });
        capped.Offer(Sample("x", 5) with { WithoutNewTypes = explained });
        capped.Offer(Sample("x", 5) with { WithoutNewTypes = explained });
        Assert.Equal([GuardVerdict.Admitted, GuardVerdict.DeviceCap], capped.Advance(user.LastEventMs + (long)Options.HoldBack.TotalMilliseconds).Select(r => r.Verdict));

        // The rule off: the same samples are refused.
        var off = new SampleGuard(Options with { NewTypeRule = false });
        Assert.Equal(GuardVerdict.Alerted, off.Offer(Sample("a", 5) with { Alerted = true, WithoutNewTypes = explained }));
        Assert.Equal(GuardVerdict.AboveChampionQuantile, off.Offer(Sample("c", 4) with { WithoutNewTypes = explained }));
    }

    [Fact]
    public void Judged_without_the_new_type_a_released_users_window_scores_far_lower_under_the_champion()
    {
        var champion = models.Champion;
        Assert.Equal(EventVocabulary.UnknownToken, champion.Tokenizer.Vocabulary.TokenOf(NewType));
        var released = Released(40, seed: 6, prefix: "p");
        var population = Population();
        Observe(population, released);
        population.ClosePeriod();
        var holders = released.Users.Where(u => u.Entries.Any(e => e.Type == NewType)).ToList();
        var withouts = holders.Select(u => population.Without(u)!).ToList();
        int capacity = released.WindowCapacity;
        var full = NewTypePopulation.LastScores(champion, holders, capacity, 256);
        var judged = NewTypePopulation.LastScores(champion, withouts, capacity, 256);
        Assert.DoesNotContain(judged, double.IsNaN);
        // The users whose last hours hold the new type: the type is what makes them score high.
        var recent = Enumerable.Range(0, holders.Count)
            .Where(i => holders[i].Entries.Any(e => e.Type == NewType && holders[i].LastEventMs - e.TimestampMs < 3_600_000)).ToList();
        Assert.NotEmpty(recent);
        double meanFull = recent.Average(i => full[i]), meanJudged = recent.Average(i => judged[i]);
        output.WriteLine($"{recent.Count} of {holders.Count} holders with the new type in their last hour: mean last score {meanFull:F2} with it, {meanJudged:F2} without");
        Assert.True(meanJudged < 0.5 * meanFull, $"mean last score {meanFull:F2} with the new type, {meanJudged:F2} without");
    }
}
