using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Tests.Generator;

namespace StreamDetect.Stages.Tests.Alerts;

/// <summary>The scenario rules on the generator's traffic: each names its family during that family's episodes, and almost never elsewhere.</summary>
public sealed class ScenarioRulesTests
{
    /// <summary>The family the rules name at each of the user's events (the window up to it, 32 events), with the event's label.</summary>
    private static IEnumerable<(string? Family, bool Anomalous)> Named(string user)
    {
        var state = new UserBehaviorState(32);
        foreach (var e in GeneratedSample.ByUser[user])
        {
            state.Apply(e);
            yield return (ScenarioRules.Classify(state.Window.ToArray())?.Family, e.Label == 1);
        }
    }

    [Theory]
    [InlineData(Scenarios.CardTesting)]
    [InlineData(Scenarios.AccountTakeover)]
    [InlineData(Scenarios.OrderBrushing)]
    [InlineData(Scenarios.ReviewSpam)]
    [InlineData(Scenarios.ScraperBot)]
    public void A_rule_names_the_family_during_every_episode_of_it_and_no_other_family(string scenario)
    {
        foreach (string user in GeneratedSample.UsersOf(scenario))
        {
            var named = Named(user).Where(n => n.Anomalous && n.Family is not null).Select(n => n.Family).ToList();
            Assert.Contains(scenario, named);
            Assert.All(named, family => Assert.Equal(scenario, family));
        }
    }

    [Theory]
    [InlineData(Scenarios.CouponAbuse)]
    [InlineData(Scenarios.ImplausibleOrder)]
    public void Scenarios_without_a_rule_are_not_given_another_family(string scenario)
    {
        foreach (string user in GeneratedSample.UsersOf(scenario))
        {
            var wrong = Named(user).Where(n => n.Anomalous && n.Family is not null).Select(n => n.Family).ToList();
            Assert.True(wrong.Count == 0, $"{user}: {string.Join(", ", wrong)}");
        }
    }

    [Fact]
    public void Rules_fire_on_almost_no_normal_users_events()
    {
        var normal = GeneratedSample.Generator.Truth.Where(p => p.Value == Scenarios.Normal && GeneratedSample.ByUser.ContainsKey(p.Key)).Select(p => p.Key).ToList();
        long events = 0, named = 0;
        foreach (string user in normal)
            foreach (var (family, _) in Named(user))
            {
                events++;
                if (family is not null) named++;
            }
        Assert.True(named <= events / 1000, $"{named} of {events} normal events named a family");
    }
}
