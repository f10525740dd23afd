using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

/// <summary>Each scenario's episodes have the shape the scenario describes.</summary>
public sealed class AnomalyScenarioTests
{
    private static IEnumerable<(string User, List<UserEvent> History, List<UserEvent> Episode)> Cases(string scenario)
    {
        var cases = GeneratedSample.UsersOf(scenario)
            .Select(u => (u, GeneratedSample.HistoryBefore(u), GeneratedSample.Episode(u))).ToList();
        Assert.Equal(20, cases.Count);
        return cases;
    }

    [Fact]
    public void Scraper_bots_run_fast_over_many_distinct_items_from_datacenter_addresses_and_never_buy()
    {
        foreach (var (user, history, episode) in Cases(Scenarios.ScraperBot))
        {
            Assert.True(episode.Count >= 400, $"{user}: {episode.Count} events");
            Assert.All(episode, e => Assert.Contains(e.Type, new[] { EventTypes.View, EventTypes.Search, EventTypes.Click }));
            Assert.True(MedianGapMs(episode) < 1000, $"{user}: median gap {MedianGapMs(episode)} ms");
            Assert.True(episode.Select(e => e.Item).Distinct().Count() > 300, $"{user}: few distinct items");
            Assert.All(episode, e => Assert.True(NetworkIdentities.IsDatacenter(e.Ip!), $"{user}: {e.Ip} is not a datacenter address"));
            Assert.DoesNotContain(episode[0].Device, history.Select(e => e.Device));
        }
    }

    [Fact]
    public void Card_testers_burst_small_failing_payments_from_a_new_device()
    {
        foreach (var (user, history, episode) in Cases(Scenarios.CardTesting))
        {
            int fails = episode.Count(e => e.Type == EventTypes.PayFail);
            int purchases = episode.Count(e => e.Type == EventTypes.Purchase);
            Assert.True(fails >= 5 && purchases >= 1 && fails > purchases, $"{user}: {fails} pay_fail, {purchases} purchases");
            Assert.All(episode.Where(e => e.Type is EventTypes.Checkout or EventTypes.PayFail or EventTypes.Purchase),
                e => Assert.InRange(e.Amount!.Value, 0.01, 5.0));
            Assert.True(MedianGapMs(episode) < 15_000, $"{user}: median gap {MedianGapMs(episode)} ms");
            Assert.DoesNotContain(episode[0].Device, history.Select(e => e.Device));
        }
    }

    [Fact]
    public void Account_takeovers_fail_logins_then_change_the_address_and_buy_expensive_items_from_a_new_device()
    {
        foreach (var (user, history, episode) in Cases(Scenarios.AccountTakeover))
        {
            int failures = episode.TakeWhile(e => e.Type == EventTypes.LoginFail).Count();
            Assert.True(failures >= 4, $"{user}: {failures} failed logins first");
            Assert.Equal(EventTypes.Login, episode[failures].Type);
            Assert.Equal(EventTypes.AddressChange, episode[failures + 1].Type);
            var purchases = episode.Where(e => e.Type == EventTypes.Purchase).ToList();
            Assert.InRange(purchases.Count, 2, 4);
            Assert.All(purchases, e => Assert.True(e.Amount >= 200, $"{user}: purchase of {e.Amount}"));
            Assert.DoesNotContain(episode[0].Device, history.Select(e => e.Device));
            Assert.DoesNotContain(episode[0].Ip, history.Select(e => e.Ip));
        }
    }

    [Fact]
    public void Order_brushers_repeat_view_purchase_review_on_a_few_items_with_similar_small_amounts()
    {
        foreach (var (user, _, episode) in Cases(Scenarios.OrderBrushing))
        {
            Assert.InRange(episode.Select(e => e.Item).Distinct().Count(), 1, 4);
            var purchases = episode.Where(e => e.Type == EventTypes.Purchase).ToList();
            Assert.True(purchases.Count >= 8, $"{user}: {purchases.Count} purchases");
            Assert.Equal(purchases.Count, episode.Count(e => e.Type == EventTypes.Review));
            double mean = purchases.Average(e => e.Amount!.Value);
            Assert.InRange(mean, 5, 30);
            Assert.All(purchases, e => Assert.InRange(e.Amount!.Value, mean * 0.93, mean * 1.07));
            for (int i = 0; i < episode.Count; i++)
            {
                if (episode[i].Type != EventTypes.Purchase) continue;
                Assert.Equal(EventTypes.Review, episode[i + 1].Type);
                Assert.Equal(episode[i].Item, episode[i + 1].Item);
            }
        }
    }

    [Fact]
    public void Review_spammers_review_many_items_they_never_bought_at_a_high_rate()
    {
        foreach (var (user, history, episode) in Cases(Scenarios.ReviewSpam))
        {
            var bought = history.Where(e => e.Type == EventTypes.Purchase).Select(e => e.Item).ToHashSet();
            var reviews = episode.Where(e => e.Type == EventTypes.Review).ToList();
            Assert.True(reviews.Count >= 15, $"{user}: {reviews.Count} reviews");
            Assert.True(reviews.Count(e => !bought.Contains(e.Item)) >= 0.7 * reviews.Count, $"{user}: most reviewed items were bought");
            double minutes = (episode[^1].TimestampMs - episode[0].TimestampMs) / 60_000.0;
            Assert.True(reviews.Count / minutes > 1.5, $"{user}: {reviews.Count} reviews in {minutes:F1} min");
        }
    }

    [Fact]
    public void Coupon_abusers_form_rings_sharing_device_and_address_each_placing_one_first_order()
    {
        var rings = new Dictionary<(string?, string?), List<string>>();
        foreach (var (user, history, episode) in Cases(Scenarios.CouponAbuse))
        {
            Assert.Single(episode.Select(e => (e.Device, e.Ip)).Distinct());
            var key = (episode[0].Device, episode[0].Ip);
            if (!rings.TryGetValue(key, out var members)) rings[key] = members = [];
            members.Add(user);

            string[] types = episode.Select(e => e.Type).ToArray();
            Assert.Equal(EventTypes.Login, types[0]);
            Assert.Equal(EventTypes.Coupon, types[1]);
            Assert.Equal(1, types.Count(t => t == EventTypes.Purchase));
            Assert.DoesNotContain(history, e => e.Type is EventTypes.Purchase or EventTypes.Checkout);
            Assert.Equal(GeneratedSample.ByUser[user][^1], episode[^1]); // abandoned after the episode
        }
        Assert.All(rings.Values, members => Assert.InRange(members.Count, 3, 6));
    }

    [Fact]
    public void Implausible_orders_break_the_order_rules_with_ordinary_rates_devices_and_amounts()
    {
        foreach (var (user, history, episode) in Cases(Scenarios.ImplausibleOrder))
        {
            var all = GeneratedSample.ByUser[user];
            int violations = OrderViolations(all).Count(e => e.Label == 1);
            Assert.True(violations >= 1, $"{user}: the episode breaks no order rule");
            Assert.True(MedianGapMs(episode) > 2_000, $"{user}: median gap {MedianGapMs(episode)} ms");
            Assert.InRange(all.Select(e => e.Device).Distinct().Count(), 1, 2);
            Assert.DoesNotContain(episode, e => NetworkIdentities.IsDatacenter(e.Ip!));
            Assert.All(episode.Where(e => e.Amount is not null), e => Assert.InRange(e.Amount!.Value, 0.01, 10_000));
        }
    }

    [Fact]
    public void Abandoned_takeovers_log_in_from_a_new_device_change_the_address_and_the_session_just_stops()
    {
        foreach (var (user, history, episode) in Cases(Scenarios.AbandonedTakeover))
        {
            Assert.Equal(EventTypes.Login, episode[0].Type);
            Assert.Equal(EventTypes.AddressChange, episode[^1].Type);
            Assert.All(episode[1..^1], e => Assert.Equal(EventTypes.View, e.Type));
            Assert.InRange(episode.Count, 2, 4);
            Assert.Single(episode.Select(e => (e.Device, e.Ip, e.Session)).Distinct());
            Assert.DoesNotContain(episode[0].Device, history.Select(e => e.Device));
            Assert.DoesNotContain(episode[0].Ip, history.Select(e => e.Ip));
            // The session stops at the address change: nothing in it after, the owner's next event (if any) much later
            // and in another session.
            var all = GeneratedSample.ByUser[user];
            int last = all.IndexOf(episode[^1]);
            Assert.DoesNotContain(all.Skip(last + 1), e => e.Session == episode[^1].Session);
            if (last + 1 < all.Count)
            {
                Assert.True(all[last + 1].TimestampMs - episode[^1].TimestampMs >= 30 * 60_000, $"{user}: next event soon after the address change");
                Assert.Equal(0, all[last + 1].Label);
            }
        }
    }

    [Fact]
    public void Checkout_loops_cart_and_check_out_again_and_again_never_pay_and_end_at_a_checkout()
    {
        foreach (var (user, _, episode) in Cases(Scenarios.CheckoutLoop))
        {
            int checkouts = episode.Count(e => e.Type == EventTypes.Checkout);
            Assert.InRange(checkouts, 4, 12);
            Assert.Equal(checkouts, episode.Count(e => e.Type == EventTypes.Cart));
            Assert.DoesNotContain(episode, e => e.Type is EventTypes.Purchase or EventTypes.PayFail or EventTypes.Logout);
            Assert.Equal(EventTypes.Checkout, episode[^1].Type);
            Assert.All(episode, e => Assert.Contains(e.Type, new[] { EventTypes.View, EventTypes.Cart, EventTypes.Checkout }));
            Assert.InRange(episode.Select(e => e.Item).Distinct().Count(), 1, 3);
            Assert.Single(episode.Select(e => e.Session).Distinct());
            // Each item at its one catalog price every time (not a card tester's varying cents), from an ordinary address.
            Assert.All(episode.Where(e => e.Amount is not null).GroupBy(e => e.Item), g => Assert.Single(g.Select(e => e.Amount).Distinct()));
            Assert.DoesNotContain(episode, e => NetworkIdentities.IsDatacenter(e.Ip!));
            var all = GeneratedSample.ByUser[user];
            Assert.DoesNotContain(all.Skip(all.IndexOf(episode[^1]) + 1), e => e.Session == episode[^1].Session);
        }
    }

    [Fact]
    public void Event_bursts_repeat_one_event_type_on_one_item_or_query_dozens_of_times_seconds_apart()
    {
        var types = new HashSet<string>();
        foreach (var (user, _, episode) in Cases(Scenarios.EventBurst))
        {
            // The longest run of one type: at least 25 events, on one item (or one query), a second or two apart.
            int bestStart = 0, bestLength = 0;
            for (int i = 0; i < episode.Count;)
            {
                int j = i;
                while (j < episode.Count && episode[j].Type == episode[i].Type && episode[j].Item == episode[i].Item && episode[j].Query == episode[i].Query) j++;
                if (j - i > bestLength) (bestStart, bestLength) = (i, j - i);
                i = j;
            }
            var run = episode.GetRange(bestStart, bestLength);
            Assert.True(bestLength >= 25 && bestLength <= 80, $"{user}: longest run {bestLength}");
            Assert.Equal(episode.Count, bestStart + bestLength); // the burst ends the episode
            Assert.True(MedianGapMs(run) < 5_000, $"{user}: median gap {MedianGapMs(run)} ms in the burst");
            Assert.Contains(run[0].Type, new[] { EventTypes.View, EventTypes.Search, EventTypes.Cart, EventTypes.Favorite });
            Assert.DoesNotContain(episode, e => NetworkIdentities.IsDatacenter(e.Ip!));
            types.Add(run[0].Type);
        }
        Assert.True(types.Count >= 2, $"bursts of {string.Join(", ", types)} only");
    }

    [Fact]
    public void Normal_behaviour_never_breaks_the_order_rules()
    {
        foreach (var (user, scenario) in GeneratedSample.Generator.Truth)
        {
            if (!GeneratedSample.ByUser.TryGetValue(user, out var events)) continue;
            var normal = scenario == Scenarios.Normal ? events : GeneratedSample.HistoryBefore(user);
            Assert.Empty(OrderViolations(normal));
        }
    }

    /// <summary>
    /// Events out of plausible order: a purchase not right after checkout, a review or refund of an item the
    /// user has not bought, a checkout right after login.
    /// </summary>
    private static IEnumerable<UserEvent> OrderViolations(IEnumerable<UserEvent> userEvents)
    {
        var bought = new HashSet<string?>();
        var previousInSession = new Dictionary<string, string>();
        foreach (UserEvent e in userEvents)
        {
            string? previous = previousInSession.GetValueOrDefault(e.Session!);
            bool violation = e.Type switch
            {
                EventTypes.Purchase => previous != EventTypes.Checkout,
                EventTypes.Review or EventTypes.Refund => !bought.Contains(e.Item),
                EventTypes.Checkout => previous == EventTypes.Login,
                _ => false,
            };
            if (violation) yield return e;
            if (e.Type == EventTypes.Purchase) bought.Add(e.Item);
            previousInSession[e.Session!] = e.Type;
        }
    }

    private static long MedianGapMs(List<UserEvent> events)
    {
        var gaps = events.Zip(events.Skip(1), (a, b) => b.TimestampMs - a.TimestampMs).Order().ToList();
        return gaps.Count == 0 ? 0 : gaps[gaps.Count / 2];
    }
}
