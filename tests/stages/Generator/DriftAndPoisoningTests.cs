using System.Security.Cryptography;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

/// <summary>The benign-drift and slow-poisoning scenario families: what they change, what they leave alone, and that both
/// are off by default.</summary>
public sealed class DriftAndPoisoningTests
{
    private const long DayMs = 86_400_000;

    private static readonly GeneratorSettings Base = new() { Users = 1000, Days = 4, AnomalyRate = 0.05, Seed = 5 };

    private static readonly GeneratorSettings Drifted = Base with { Drift = new DriftSettings { Share = 0.3, Day = 2 } };

    private static readonly GeneratorSettings Poisoned = Base with { Poisoning = new PoisoningSettings { Rate = 0.04, StrikeDay = 2 } };

    private static long StartMs(GeneratorSettings settings) => new DateTimeOffset(settings.Start).ToUnixTimeMilliseconds();

    [Fact]
    public void Both_families_are_off_by_default_and_the_default_traffic_keeps_its_bytes()
    {
        Assert.False(GeneratorSettings.Default.Drift.Enabled);
        Assert.False(GeneratorSettings.Default.Poisoning.Enabled);
        // Pinned from the generator before these scenarios existed (`gen --users 3000 --days 7 --seed 7`, every other
        // setting default): switching them off must leave the traffic identical, byte for byte. A deliberate change of
        // the default traffic updates this hash (and the README's figures).
        var generator = new TrafficGenerator(GeneratorSettings.Default with { Users = 3000, Days = 7, Seed = 7 });
        using var sha = SHA256.Create();
        using (var hashing = new CryptoStream(Stream.Null, sha, CryptoStreamMode.Write, leaveOpen: true))
        {
            GeneratedTrafficWriter.WriteEvents(generator, hashing, cancellation: TestContext.Current.CancellationToken);
            hashing.FlushFinalBlock();
        }
        Assert.Equal("e142e6ac7b70dcc3a7307c10aead3ef2b96b366d490d208eee2d7df5ce7ea927", Convert.ToHexStringLower(sha.Hash!));
    }

    [Fact]
    public void Drift_changes_only_the_released_share_of_users_and_only_from_the_release_on()
    {
        var before = ByUser(Base);
        var after = ByUser(Drifted);
        long release = StartMs(Base) + 2 * DayMs;

        Assert.Equal(new TrafficGenerator(Base).Truth, new TrafficGenerator(Drifted).Truth);
        var changed = new List<string>();
        foreach (string user in before.Keys.Union(after.Keys))
        {
            var was = before.GetValueOrDefault(user) ?? [];
            var now = after.GetValueOrDefault(user) ?? [];
            // Everything before the release is untouched, for every user.
            Assert.Equal(Describe(was.Where(e => e.TimestampMs < release)), Describe(now.Where(e => e.TimestampMs < release)));
            if (!Describe(was).SequenceEqual(Describe(now))) changed.Add(user);
            // A drifted user keeps its scenario: anomalous events only where it had them (its episode), normal otherwise.
            Assert.Equal(was.Any(e => e.Label == 1), now.Any(e => e.Label == 1));
        }
        // 30% of 1000 users adopt the release; those without a session after it look the same.
        Assert.InRange(changed.Count, 200, 300);

        var released = after.Where(p => changed.Contains(p.Key)).SelectMany(p => p.Value).ToList();
        var newTypes = after.Values.SelectMany(events => events).Where(e => ReleaseEventTypes.All.Contains(e.Type)).ToList();
        Assert.True(newTypes.Count > 500, $"only {newTypes.Count} events of the release's types");
        Assert.All(newTypes, e =>
        {
            Assert.True(e.TimestampMs >= release, $"{e} before the release");
            Assert.Equal(0, e.Label);
            Assert.Contains(e.UserId, changed);
        });
        Assert.Contains(released, e => e.Type == ReleaseEventTypes.Assistant);
        Assert.Contains(released, e => e.Type == ReleaseEventTypes.ExpressCheckout);

        // Another pace: the gaps inside the released users' sessions after the release are shorter than before it.
        double gapBefore = MedianGap(changed.SelectMany(u => before[u]).Where(e => e.TimestampMs >= release));
        double gapAfter = MedianGap(released.Where(e => e.TimestampMs >= release));
        Assert.True(gapAfter < 0.85 * gapBefore, $"median in-session gap {gapAfter:F0} ms after the release, {gapBefore:F0} ms without it");
    }

    [Fact]
    public void Poisoners_are_labelled_normal_until_their_strike_which_carries_their_scenario()
    {
        var generator = new TrafficGenerator(Poisoned);
        var byUser = ByUser(Poisoned);
        long strikeFrom = StartMs(Poisoned) + 2 * DayMs;
        var poisoners = generator.Truth.Where(p => Scenarios.Poisoning.Contains(p.Value)).ToList();
        Assert.Equal(40, poisoners.Count); // 4% of 1000, taken from the normal users
        Assert.Equal(20, generator.AnomalousUsersByScenario[Scenarios.PoisoningAccountTakeover]);
        Assert.Equal(20, generator.AnomalousUsersByScenario[Scenarios.PoisoningCardTesting]);
        Assert.Equal(50, generator.Truth.Values.Count(s => Scenarios.Anomalous.Contains(s))); // the other scenarios keep their users

        foreach (var (user, scenario) in poisoners)
        {
            var events = byUser[user];
            int strike = events.FindIndex(e => e.Label == 1);
            Assert.True(strike > 5, $"{scenario} {user}: {(strike < 0 ? "no strike" : $"only {strike} normal events before the strike")}");
            Assert.All(events.Take(strike), e => Assert.Equal(0, e.Label));
            Assert.All(events.Skip(strike), e => Assert.Equal(1, e.Label)); // the strike ends the account's activity
            Assert.True(events[strike].TimestampMs >= strikeFrom, $"{user} strikes before the strike day");
            // The strike comes from the other device that the approach made familiar.
            Assert.Contains(events.Take(strike), e => e.Device == events[strike].Device);
        }

        // Session by session toward the attack: its traits are much commoner in the last third of the approach than in the first.
        foreach (var (scenario, trait) in new[] { (Scenarios.PoisoningAccountTakeover, EventTypes.LoginFail), (Scenarios.PoisoningCardTesting, EventTypes.PayFail) })
        {
            int early = 0, late = 0;
            foreach (var (user, _) in poisoners.Where(p => p.Value == scenario))
            {
                var approach = byUser[user].Where(e => e.Label == 0).ToList();
                long from = StartMs(Poisoned), until = byUser[user].First(e => e.Label == 1).TimestampMs;
                early += approach.Count(e => e.Type == trait && e.TimestampMs < from + (until - from) / 3);
                late += approach.Count(e => e.Type == trait && e.TimestampMs >= until - (until - from) / 3);
            }
            Assert.True(late > 3 * Math.Max(1, early), $"{scenario}: {early} {trait} events in the first third of the approach, {late} in the last");
        }

        // Nobody else changes.
        var plain = ByUser(Base);
        foreach (var (user, events) in plain.Where(p => !poisoners.Any(q => q.Key == p.Key)))
            Assert.Equal(Describe(events), Describe(byUser[user]));
    }

    [Fact]
    public void Drift_and_poisoning_together_are_deterministic_with_the_seed()
    {
        var settings = Base with { Drift = Drifted.Drift, Poisoning = Poisoned.Poisoning, Users = 400 };
        (byte[] events1, byte[] truth1) = Write(settings);
        (byte[] events2, byte[] truth2) = Write(settings);
        Assert.Equal(events1, events2);
        Assert.Equal(truth1, truth2);
        Assert.NotEqual(events1, Write(settings with { Seed = 6 }).Events);
    }

    [Fact]
    public void The_release_model_is_a_proper_chain_that_emits_the_new_types_and_the_default_model_never_does()
    {
        var release = ShopperSessionModel.AfterRelease;
        foreach (ShopperState from in Enum.GetValues<ShopperState>())
        {
            double sum = release.TransitionProbability(from, null) + Enum.GetValues<ShopperState>().Sum(to => release.TransitionProbability(from, to));
            Assert.Equal(1.0, sum, 9);
        }
        Assert.Equal(1.0, Enum.GetValues<ShopperState>().Sum(release.StartProbability), 9);
        var mix = release.ExpectedTypeMix();
        Assert.True(mix[ReleaseEventTypes.Assistant] > 0.01, $"assistant share {mix[ReleaseEventTypes.Assistant]:P2}");
        Assert.True(mix[ReleaseEventTypes.ExpressCheckout] > 0.005, $"express_checkout share {mix[ReleaseEventTypes.ExpressCheckout]:P2}");
        Assert.DoesNotContain(ReleaseEventTypes.Assistant, ShopperSessionModel.Default.ExpectedTypeMix().Keys);
        Assert.DoesNotContain(ReleaseEventTypes.ExpressCheckout, ShopperSessionModel.Default.ExpectedTypeMix().Keys);
    }

    [Fact]
    public void Settings_name_the_property_when_a_day_falls_outside_the_period()
    {
        var drift = Assert.Throws<ArgumentException>(() => new TrafficGenerator(Base with { Drift = new DriftSettings { Share = 0.5, Day = 4 } }));
        Assert.Contains("Drift.day", drift.Message);
        var poisoning = Assert.Throws<ArgumentException>(() => new TrafficGenerator(Base with { Poisoning = new PoisoningSettings { Rate = 0.1, Targets = ["review_spam"] } }));
        Assert.Contains("Poisoning.targets", poisoning.Message);
    }

    private static Dictionary<string, List<UserEvent>> ByUser(GeneratorSettings settings)
    {
        var byUser = new Dictionary<string, List<UserEvent>>(StringComparer.Ordinal);
        foreach (UserEvent e in new TrafficGenerator(settings).Events())
        {
            if (!byUser.TryGetValue(e.UserId, out var list)) byUser[e.UserId] = list = [];
            list.Add(e);
        }
        return byUser;
    }

    private static List<string> Describe(IEnumerable<UserEvent> events) =>
        events.Select(e => $"{e.TimestampMs} {e.Type} {e.Item} {e.Amount} {e.Query} {e.Ip} {e.Device} {e.Session} {e.Label}").ToList();

    /// <summary>Median gap between consecutive events of the same session.</summary>
    private static double MedianGap(IEnumerable<UserEvent> events)
    {
        var gaps = events.GroupBy(e => e.Session).SelectMany(s => s.Zip(s.Skip(1), (a, b) => (double)(b.TimestampMs - a.TimestampMs))).Order().ToList();
        return gaps[gaps.Count / 2];
    }

    private static (byte[] Events, byte[] Truth) Write(GeneratorSettings settings)
    {
        var generator = new TrafficGenerator(settings);
        using var events = new MemoryStream();
        using var truth = new MemoryStream();
        GeneratedTrafficWriter.WriteTruth(generator.Truth, truth);
        GeneratedTrafficWriter.WriteEvents(generator, events, cancellation: TestContext.Current.CancellationToken);
        return (events.ToArray(), truth.ToArray());
    }
}
