using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

/// <summary>Normal users' traffic against the model it is drawn from, and the shape of real shop traffic.</summary>
public sealed class NormalTrafficTests
{
    private static List<UserEvent> NormalEvents() =>
        GeneratedSample.UsersOf(Scenarios.Normal).SelectMany(u => GeneratedSample.ByUser.GetValueOrDefault(u) ?? []).ToList();

    [Fact]
    public void Model_rows_are_distributions_and_the_expected_mix_covers_every_known_type()
    {
        var model = ShopperSessionModel.Default;
        foreach (ShopperState from in Enum.GetValues<ShopperState>())
        {
            double sum = model.TransitionProbability(from, null) + Enum.GetValues<ShopperState>().Sum(to => model.TransitionProbability(from, to));
            Assert.Equal(1.0, sum, 9);
        }
        Assert.Equal(1.0, Enum.GetValues<ShopperState>().Sum(model.StartProbability), 9);
        var mix = model.ExpectedTypeMix();
        Assert.Equal(1.0, mix.Values.Sum(), 9);
        Assert.Equal(EventTypes.Known.Order(StringComparer.Ordinal), mix.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Expected_session_length_matches_a_direct_simulation_of_the_chain()
    {
        // Independent of the linear algebra: walk the chain many times with the model's own probabilities.
        var model = ShopperSessionModel.Default;
        ShopperState[] states = Enum.GetValues<ShopperState>();
        double[] start = states.Select(model.StartProbability).ToArray();
        double[][] rows = states.Select(from => states.Select(to => model.TransitionProbability(from, to)).ToArray()).ToArray();
        var random = new Random(1);
        long total = 0;
        const int sessions = 40_000;
        for (int s = 0; s < sessions; s++)
        {
            int state = Draw(random, start);
            while (state >= 0)
            {
                total++;
                state = Draw(random, rows[state]);
            }
        }
        double expected = model.ExpectedSessionLength();
        Assert.True(Math.Abs(total / (double)sessions - expected) < 0.02 * expected,
            $"simulated mean {total / (double)sessions:F3}, model {expected:F3}");
    }

    [Fact]
    public void Normal_sessions_have_the_model_mean_length()
    {
        var sessions = NormalEvents().GroupBy(e => e.Session).Select(g => g.Count()).ToList();
        double expected = ShopperSessionModel.Default.ExpectedSessionLength();
        double observed = sessions.Average();

        Assert.True(sessions.Count > 5000, $"only {sessions.Count} sessions");
        Assert.True(Math.Abs(observed - expected) <= 0.05 * expected,
            $"mean session length {observed:F2}, model {expected:F2} ({sessions.Count} sessions)");
    }

    [Fact]
    public void Normal_event_type_mix_matches_the_model()
    {
        var events = NormalEvents();
        var counts = events.GroupBy(e => e.Type).ToDictionary(g => g.Key, g => g.Count());
        int n = events.Count;
        foreach (var (type, expected) in ShopperSessionModel.Default.ExpectedTypeMix())
        {
            double observed = counts.GetValueOrDefault(type) / (double)n;
            // Events of a session are correlated: allow 4 standard errors with a design effect of 3.
            double tolerance = 4 * Math.Sqrt(3 * expected * (1 - expected) / n) + 0.0005;
            Assert.True(Math.Abs(observed - expected) <= tolerance,
                $"{type}: share {observed:P3}, model {expected:P3}, tolerance {tolerance:P3}");
        }
    }

    [Fact]
    public void Activity_is_heavy_tailed_across_users()
    {
        var perUser = GeneratedSample.UsersOf(Scenarios.Normal)
            .Select(u => GeneratedSample.ByUser.GetValueOrDefault(u)?.Count ?? 0)
            .OrderDescending().ToList();
        long total = perUser.Sum();
        long top10 = perUser.Take(perUser.Count / 10).Sum();
        Assert.True(top10 > 0.3 * total, $"the top 10% of users make {top10 / (double)total:P1} of events");
        Assert.True(perUser[perUser.Count / 2] < total / perUser.Count, "the median user should be below the mean");
    }

    [Fact]
    public void Evenings_are_busier_than_nights()
    {
        var byHour = new int[24];
        foreach (UserEvent e in NormalEvents()) byHour[e.Time.Hour]++;
        int night = byHour[2] + byHour[3] + byHour[4];
        int evening = byHour[19] + byHour[20] + byHour[21];
        Assert.True(evening > 4 * night, $"evening {evening} vs night {night}");
    }

    [Fact]
    public void Item_popularity_is_skewed()
    {
        var views = NormalEvents().Where(e => e.Type == EventTypes.View).ToList();
        var perItem = views.GroupBy(e => e.Item).Select(g => g.Count()).OrderDescending().ToList();
        int top = GeneratedSample.Settings.Items / 100;
        Assert.True(perItem.Take(top).Sum() > 0.25 * views.Count,
            $"the top 1% of items get {perItem.Take(top).Sum() / (double)views.Count:P1} of views");
    }

    [Fact]
    public void Normal_users_keep_one_or_two_devices_and_a_few_addresses()
    {
        foreach (string user in GeneratedSample.UsersOf(Scenarios.Normal))
        {
            if (!GeneratedSample.ByUser.TryGetValue(user, out var events)) continue;
            Assert.InRange(events.Select(e => e.Device).Distinct().Count(), 1, 2);
            Assert.InRange(events.Select(e => e.Ip).Distinct().Count(), 1, 3);
            Assert.DoesNotContain(events, e => NetworkIdentities.IsDatacenter(e.Ip!));
        }
    }

    [Fact]
    public void A_session_keeps_its_device_and_address_and_amounts_are_on_money_events_only()
    {
        foreach (var session in NormalEvents().GroupBy(e => e.Session))
        {
            Assert.Single(session.Select(e => (e.Device, e.Ip)).Distinct());
        }
        string[] withAmount = [EventTypes.Cart, EventTypes.RemoveCart, EventTypes.Checkout, EventTypes.Purchase, EventTypes.PayFail, EventTypes.Refund, EventTypes.Coupon];
        Assert.All(NormalEvents(), e => Assert.Equal(withAmount.Contains(e.Type), e.Amount is > 0));
        Assert.All(NormalEvents().Where(e => e.Type == EventTypes.Search), e => Assert.False(string.IsNullOrEmpty(e.Query)));
    }

    /// <summary>Index drawn from <paramref name="p"/>; -1 for the remaining mass ("end").</summary>
    private static int Draw(Random random, double[] p)
    {
        double x = random.NextDouble();
        for (int i = 0; i < p.Length; i++)
        {
            if (x < p[i]) return i;
            x -= p[i];
        }
        return -1;
    }
}
